//! What one Rust source file says about the rules: which of its crate's top-level modules it
//! names, where it names `axum` or runs SQL, its functions too long to read, hand-written
//! hex/base64, and public error enums left exhaustive. Code under `#[cfg(test)]` and
//! `#[test]` functions is skipped: the rules are about the shipped code.

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::rules::MAX_FUNCTION_LINES;

/// The facts of one file; each `usize` is a 1-based line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// Top-level modules of the file's own crate that it refers to (`crate::store::…`).
    pub module_refs: Vec<(String, usize)>,
    pub axum: Vec<usize>,
    pub sql: Vec<usize>,
    /// (function, first line, length in lines)
    pub long_functions: Vec<(String, usize, usize)>,
    pub hand_encoders: Vec<usize>,
    /// Public `…Error` enums without `#[non_exhaustive]`.
    pub exhaustive_errors: Vec<(String, usize)>,
}

/// Parses `text`. `crate_alias` is how the file names its own library when it is not `crate`
/// (a binary's `main.rs` says `countersign_server::…`).
pub fn facts(text: &str, crate_alias: Option<&str>) -> Result<FileFacts, String> {
    let file = syn::parse_file(text).map_err(|e| format!("line {}: {e}", e.span().start().line))?;
    let mut collector = Collector {
        crate_alias,
        facts: FileFacts::default(),
    };
    collector.visit_file(&file);
    Ok(collector.facts)
}

struct Collector<'a> {
    crate_alias: Option<&'a str>,
    facts: FileFacts,
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        if path.is_ident("test") {
            return true;
        }
        path.is_ident("cfg")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string() == "test")
    })
}

fn line_count(first: proc_macro2::Span, last: proc_macro2::Span) -> (usize, usize) {
    let start = first.start().line;
    (start, last.end().line.saturating_sub(start) + 1)
}

const SQL_STARTS: [&str; 15] = [
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE UNIQUE INDEX",
    "ALTER TABLE",
    "DROP TABLE",
    "DROP INDEX",
    "PRAGMA ",
    "SAVEPOINT ",
    "RELEASE SAVEPOINT",
    "ROLLBACK",
    "BEGIN",
    "COMMIT",
];

/// A string that is an SQL statement (our SQL is written in upper-case keywords).
pub fn looks_like_sql(text: &str) -> bool {
    let text = text.trim_start();
    let update = text.starts_with("UPDATE ") && text.contains(" SET ");
    let with = text.starts_with("WITH ") && text.contains(" AS (");
    update
        || with
        || SQL_STARTS.iter().any(|start| {
            // A keyword that ends the start ("ROLLBACK") must end the word too.
            text.strip_prefix(start).is_some_and(|rest| {
                start.ends_with(' ') || rest.is_empty() || !rest.starts_with(char::is_alphanumeric)
            })
        })
}

/// A string that spells out a hex or base64 encoding by hand: a `{:02x}` format, or an
/// encoding alphabet.
pub fn looks_like_hand_encoder(text: &str) -> bool {
    let hex_format = [":02x}", ":02X}", ":02x?}"]
        .iter()
        .any(|spec| text.contains(spec));
    // Base64's alphabets end in "+/" or "-_"; letters and digits alone are a token charset.
    let base64 = ["0123456789+/", "0123456789-_"].iter().any(|tail| {
        text.contains(&format!(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz{tail}"
        ))
    });
    let alphabet = text.contains("0123456789abcdef") || text.contains("0123456789ABCDEF") || base64;
    hex_format || alphabet
}

/// The functions that run SQL through sqlx.
const SQLX_QUERIES: [&str; 7] = [
    "query",
    "query_as",
    "query_scalar",
    "query_with",
    "query_as_with",
    "raw_sql",
    "QueryBuilder",
];

impl Collector<'_> {
    /// A path, given as its segment names, seen at `line`.
    fn path(&mut self, segments: &[String], line: usize) {
        let Some(first) = segments.first() else {
            return;
        };
        let own_crate = first == "crate" || Some(first.as_str()) == self.crate_alias;
        if own_crate && let Some(module) = segments.get(1) {
            self.facts.module_refs.push((module.clone(), line));
        }
        if first == "axum" {
            self.facts.axum.push(line);
        }
        if first == "sqlx"
            && segments
                .get(1)
                .is_some_and(|s| SQLX_QUERIES.contains(&s.as_str()))
        {
            self.facts.sql.push(line);
        }
    }

    fn string(&mut self, value: &str, line: usize) {
        if looks_like_sql(value) {
            self.facts.sql.push(line);
        }
        if looks_like_hand_encoder(value) {
            self.facts.hand_encoders.push(line);
        }
    }

    /// Macro arguments are tokens, not syntax: strings and `crate::x` paths are found by hand.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(literal) => {
                    if let Ok(string) = syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                        self.string(&string.value(), literal.span().start().line);
                    }
                }
                TokenTree::Ident(ident) => {
                    let is_path_start = match trees.get(i.wrapping_sub(1)) {
                        Some(TokenTree::Punct(p)) => p.as_char() != ':',
                        _ => true,
                    };
                    if is_path_start {
                        let segments = path_in_tokens(&trees[i..]);
                        if segments.len() > 1 || ident != "crate" {
                            self.path(&segments, ident.span().start().line);
                        }
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }

    fn function(&mut self, name: String, first: proc_macro2::Span, last: proc_macro2::Span) {
        let (line, length) = line_count(first, last);
        if length > MAX_FUNCTION_LINES {
            self.facts.long_functions.push((name, line, length));
        }
    }
}

/// `a :: b :: c` at the start of `trees`, as ["a", "b", "c"].
fn path_in_tokens(trees: &[TokenTree]) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = trees;
    while let Some(TokenTree::Ident(ident)) = rest.first() {
        segments.push(ident.to_string());
        match rest {
            [_, TokenTree::Punct(a), TokenTree::Punct(b), tail @ ..]
                if a.as_char() == ':' && b.as_char() == ':' =>
            {
                rest = tail
            }
            _ => break,
        }
    }
    segments
}

/// Every path a `use` tree imports, each as its segment names.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            use_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            out.push([prefix.as_slice(), &[name.ident.to_string()]].concat())
        }
        syn::UseTree::Rename(rename) => {
            out.push([prefix.as_slice(), &[rename.ident.to_string()]].concat())
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(group) => group
            .items
            .iter()
            .for_each(|item| use_paths(item, prefix, out)),
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test_only(&item.attrs) {
            visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if is_test_only(&item.attrs) {
            return;
        }
        let close = item.block.brace_token.span.close();
        self.function(item.sig.ident.to_string(), item.sig.fn_token.span, close);
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if is_test_only(&item.attrs) {
            return;
        }
        let close = item.block.brace_token.span.close();
        self.function(item.sig.ident.to_string(), item.sig.fn_token.span, close);
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            let close = block.brace_token.span.close();
            self.function(item.sig.ident.to_string(), item.sig.fn_token.span, close);
        }
        visit::visit_trait_item_fn(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &mut Vec::new(), &mut paths);
        let line = item.span().start().line;
        for path in paths {
            self.path(&path, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.path(&segments, path.span().start().line);
        visit::visit_path(self, path);
    }

    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        self.string(&literal.value(), literal.span().start().line);
    }

    fn visit_lit_byte_str(&mut self, literal: &'ast syn::LitByteStr) {
        self.string(
            &String::from_utf8_lossy(&literal.value()),
            literal.span().start().line,
        );
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.tokens(mac.tokens.clone());
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        let public = matches!(item.vis, syn::Visibility::Public(_));
        let open = item
            .attrs
            .iter()
            .any(|attr| attr.path().is_ident("non_exhaustive"));
        if public && item.ident.to_string().ends_with("Error") && !open {
            self.facts
                .exhaustive_errors
                .push((item.ident.to_string(), item.ident.span().start().line));
        }
        visit::visit_item_enum(self, item);
    }
}
