//! Offline number intelligence for `phones/info`: Google's libphonenumber metadata (through
//! the `phonenumber` crate) says whether a number is valid, its line type and its country.
//! No carrier lookup is made, so the provider and porting are not known (see
//! docs/server-api.md, Phone information).

use phonenumber::metadata::{DATABASE, Descriptor};
use phonenumber::{Metadata, Mode, PhoneNumber, Type};

/// A number's line type, with Authy's name for it and libphonenumber's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineType(Type);

impl LineType {
    /// Authy's `type`: `cellphone`, `landline`, `voip`, or `unknown` for every other kind
    /// (toll-free, premium rate, pager, …) and for numbers that may be either a mobile or a
    /// fixed line (all of the North American plan: only a carrier lookup can tell).
    pub fn authy_name(self) -> &'static str {
        match self.0 {
            Type::Mobile => "cellphone",
            Type::FixedLine => "landline",
            Type::Voip => "voip",
            _ => "unknown",
        }
    }

    /// libphonenumber's name for the type, in snake case (`fixed_line_or_mobile`, …).
    pub fn libphonenumber_name(self) -> &'static str {
        match self.0 {
            Type::FixedLine => "fixed_line",
            Type::Mobile => "mobile",
            Type::FixedLineOrMobile => "fixed_line_or_mobile",
            Type::TollFree => "toll_free",
            Type::PremiumRate => "premium_rate",
            Type::SharedCost => "shared_cost",
            Type::PersonalNumber => "personal_number",
            Type::Voip => "voip",
            Type::Pager => "pager",
            Type::Uan => "uan",
            Type::Voicemail => "voicemail",
            _ => "unknown",
        }
    }
}

/// What the metadata says about one number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberInfo {
    pub country_code: u16,
    /// The national significant number (leading zeros kept, as in Italy).
    pub national: String,
    pub e164: String,
    pub valid: bool,
    /// `unknown` for a number that is not valid.
    pub line_type: LineType,
    /// ISO 3166 region (`GB`), for a valid number.
    pub region: Option<String>,
}

/// Looks up `+{country_code}{digits}`; `None` when it cannot be read as a phone number at
/// all (no such country calling code, too few or too many digits).
pub fn look_up(country_code: i64, digits: &str) -> Option<NumberInfo> {
    if digits.is_empty() || digits.len() > 17 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: PhoneNumber = phonenumber::parse(None, format!("+{country_code}{digits}")).ok()?;
    if i64::from(number.code().value()) != country_code {
        return None;
    }
    let national = number.national().to_string();
    let valid = phonenumber::is_valid(&number);
    let metadata = region_metadata(number.code().value(), &national).filter(|_| valid);
    Some(NumberInfo {
        country_code: number.code().value(),
        line_type: LineType(metadata.map_or(Type::Unknown, |m| number_type(m, &national))),
        region: metadata.map(|m| m.id().to_owned()).filter(|id| id != "001"),
        national,
        e164: number.format().mode(Mode::E164).to_string(),
        valid,
    })
}

// The `phonenumber` crate's own `PhoneNumber::metadata` and `number_type` read the national
// number without its leading zeros (Italy's 02… becomes 2…), which loses the region and the
// type of such numbers; these two follow libphonenumber on the number as written.

/// The metadata of the region `national` belongs to among those sharing calling code `code`
/// (libphonenumber's getRegionCodeForNumberFromRegionList).
fn region_metadata(code: u16, national: &str) -> Option<&'static Metadata> {
    let regions = DATABASE.region(&code)?;
    if let [only] = regions.as_slice() {
        return match *only {
            // Non-geographic entities (+800, +882, …) are filed by calling code.
            "001" => DATABASE.by_code(&code)?.into_iter().next(),
            region => DATABASE.by_id(region),
        };
    }
    regions
        .iter()
        .filter_map(|region| DATABASE.by_id(*region))
        .find(|metadata| match metadata.leading_digits() {
            Some(pattern) => pattern.find(national).is_some_and(|m| m.start() == 0),
            None => number_type(metadata, national) != Type::Unknown,
        })
}

/// libphonenumber's getNumberTypeHelper: the first special kind the number matches, then
/// fixed line and/or mobile.
fn number_type(metadata: &Metadata, national: &str) -> Type {
    let descriptors = metadata.descriptors();
    let matches =
        |descriptor: Option<&Descriptor>| descriptor.is_some_and(|d| d.is_match(national));
    if !descriptors.general().is_match(national) {
        return Type::Unknown;
    }
    let special = [
        Type::PremiumRate,
        Type::TollFree,
        Type::SharedCost,
        Type::Voip,
        Type::PersonalNumber,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    if let Some(kind) = special
        .into_iter()
        .find(|kind| matches(descriptors.get(*kind)))
    {
        return kind;
    }
    let fixed = descriptors.fixed_line();
    let mobile = descriptors.mobile();
    let same_patterns = match (fixed, mobile) {
        (Some(f), Some(m)) => f.national_number().as_str() == m.national_number().as_str(),
        _ => false,
    };
    match (matches(fixed), same_patterns || matches(mobile)) {
        (true, true) => Type::FixedLineOrMobile,
        (true, false) => Type::FixedLine,
        (false, _) if !same_patterns && matches(mobile) => Type::Mobile,
        _ => Type::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uk_mobile_and_landline() {
        let mobile = look_up(44, "7400123456").unwrap();
        assert!(mobile.valid);
        assert_eq!(mobile.line_type.authy_name(), "cellphone");
        assert_eq!(mobile.region.as_deref(), Some("GB"));
        assert_eq!(mobile.e164, "+447400123456");
        let landline = look_up(44, "2079460000").unwrap();
        assert_eq!(landline.line_type.authy_name(), "landline");
    }

    #[test]
    fn leading_zeros_keep_their_region_and_type() {
        let milan = look_up(39, "0212345678").unwrap();
        assert!(milan.valid);
        assert_eq!(milan.region.as_deref(), Some("IT"));
        assert_eq!(milan.line_type.authy_name(), "landline");
        assert_eq!(milan.national, "0212345678");
    }

    #[test]
    fn unreadable_numbers() {
        assert_eq!(look_up(999, "5551234"), None);
        assert_eq!(look_up(44, ""), None);
        assert_eq!(look_up(44, "12a4"), None);
        assert_eq!(look_up(44, &"9".repeat(40)), None);
    }

    #[test]
    fn an_invalid_number_has_no_type_and_no_region() {
        let info = look_up(44, "1234").unwrap();
        assert!(!info.valid);
        assert_eq!(info.line_type.authy_name(), "unknown");
        assert_eq!(info.line_type.libphonenumber_name(), "unknown");
        assert_eq!(info.region, None);
    }
}
