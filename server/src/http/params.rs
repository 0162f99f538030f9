//! Request parameters as Authy clients send them: query string, form body (`user[email]=…`,
//! as curl does) or JSON body (`{"user": {"email": …}}`, as the official SDKs do). All become
//! one ordered list of flattened names, so `details` keep the order they were sent in.

use serde_json::Value;

use crate::error::ApiError;

const MAX_PARAMS: usize = 256;
const MAX_LEN: usize = 4096;

#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut params = Params::default();
        if let Some(query) = query {
            for (k, v) in form_urlencoded::parse(query.as_bytes()) {
                params.push(k.into_owned(), v.into_owned())?;
            }
        }
        let body_text = std::str::from_utf8(body)
            .map_err(|_| ApiError::invalid_request("The request body is not UTF-8."))?;
        if !body_text.trim().is_empty() {
            let is_json = content_type.is_some_and(|c| c.contains("json"))
                || body_text.trim_start().starts_with('{');
            if is_json {
                let value: Value = serde_json::from_str(body_text).map_err(|_| {
                    ApiError::invalid_request("The request body is not valid JSON.")
                })?;
                let Value::Object(map) = value else {
                    return Err(ApiError::invalid_request(
                        "The JSON body must be an object.",
                    ));
                };
                for (key, value) in map {
                    params.flatten(key, &value, 0)?;
                }
            } else {
                for (k, v) in form_urlencoded::parse(body) {
                    params.push(k.into_owned(), v.into_owned())?;
                }
            }
        }
        Ok(params)
    }

    fn push(&mut self, key: String, value: String) -> Result<(), ApiError> {
        if self.pairs.len() >= MAX_PARAMS {
            return Err(ApiError::invalid_request("Too many parameters."));
        }
        if key.len() > MAX_LEN || value.len() > MAX_LEN {
            return Err(ApiError::invalid_parameter(format!(
                "The parameter {} is too long.",
                key.chars().take(40).collect::<String>()
            )));
        }
        self.pairs.push((key, value));
        Ok(())
    }

    fn flatten(&mut self, key: String, value: &Value, depth: usize) -> Result<(), ApiError> {
        if depth > 4 {
            return Err(ApiError::invalid_request(
                "The JSON body is nested too deeply.",
            ));
        }
        match value {
            Value::Null => Ok(()),
            Value::Bool(b) => self.push(key, b.to_string()),
            Value::Number(n) => self.push(key, n.to_string()),
            Value::String(s) => self.push(key, s.clone()),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.flatten(format!("{key}[{i}]"), item, depth + 1)?;
                }
                Ok(())
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.flatten(format!("{key}[{k}]"), v, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value, trimmed.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }

    pub fn number(&self, name: &str) -> Result<Option<i64>, ApiError> {
        crate::service::number_param(name, self.text(name))
    }

    /// Entries `PREFIX[KEY]=VALUE`, in the order sent.
    pub fn section(&self, prefix: &str) -> Vec<(&str, &str)> {
        let open = format!("{prefix}[");
        self.pairs
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix(&open)?.strip_suffix(']')?;
                Some((key, v.as_str()))
            })
            .collect()
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        let open = format!("{prefix}[");
        self.pairs
            .iter()
            .any(|(k, _)| k == prefix || k.starts_with(&open))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}
