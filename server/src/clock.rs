//! The server's clock and its one-time random tokens: shared by every layer, depending on
//! none, so that the store can stamp rows without reaching up into the state.

use base64::Engine;

/// Unix seconds now (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// 16 random bytes, base64url: nonces, lease tokens and similar one-time values.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A UTC calendar time, from Unix seconds: for the dates the API writes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// Converts with the proleptic Gregorian calendar (days-from-civil inverted, in eras of
    /// 400 years), so that no date library is needed for a date.
    pub fn from_unix(unix: i64) -> Civil {
        let days = unix.div_euclid(86_400);
        let seconds = unix.rem_euclid(86_400);
        let shifted = days + 719_468; // days since 0000-03-01
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let march_month = (5 * day_of_year + 2) / 153; // 0 = March
        let day = day_of_year - (153 * march_month + 2) / 5 + 1;
        let month = if march_month < 10 {
            march_month + 3
        } else {
            march_month - 9
        };
        Civil {
            year: year_of_era + era * 400 + i64::from(month <= 2),
            month: month as u32,
            day: day as u32,
            hour: (seconds / 3600) as u32,
            minute: (seconds % 3600 / 60) as u32,
            second: (seconds % 60) as u32,
        }
    }
}

#[cfg(test)]
mod civil_tests {
    use super::Civil;

    #[test]
    fn known_dates() {
        let at = |y, mo, d, h, mi, s| Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
        };
        assert_eq!(Civil::from_unix(0), at(1970, 1, 1, 0, 0, 0));
        // `date -u -d @951782400`: the leap day of a century leap year.
        assert_eq!(Civil::from_unix(951_782_400), at(2000, 2, 29, 0, 0, 0));
        assert_eq!(Civil::from_unix(1_455_991_758), at(2016, 2, 20, 18, 9, 18));
        assert_eq!(
            Civil::from_unix(4_102_444_799),
            at(2099, 12, 31, 23, 59, 59)
        );
        assert_eq!(Civil::from_unix(-1), at(1969, 12, 31, 23, 59, 59));
    }
}
