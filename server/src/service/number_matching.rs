//! Number matching: the bank's page shows a two-digit number and the phone offers it among
//! two decoys. The three choices are drawn once, when the request is created, and stored:
//! drawn again per fetch, the right number would be the one present in every fetch.

use serde_json::Value;

/// The right number and the three choices in the order every fetch shows them.
pub struct Choices {
    pub right: i64,
    pub shown: [i64; 3],
}

impl Choices {
    pub fn to_json(&self) -> String {
        Value::from(self.shown.to_vec()).to_string()
    }

    /// The stored choices, if they are three distinct two-digit numbers including `right`.
    pub fn parse(right: i64, stored: &str) -> Option<Choices> {
        let shown: Vec<i64> = serde_json::from_str(stored).ok()?;
        let shown: [i64; 3] = shown.try_into().ok()?;
        let distinct = shown[0] != shown[1] && shown[1] != shown[2] && shown[0] != shown[2];
        let in_range = shown.iter().all(|n| (10..100).contains(n));
        (distinct && in_range && shown.contains(&right)).then_some(Choices { right, shown })
    }
}

/// A right number and two distinct decoys, in random order.
pub fn draw() -> Choices {
    around(10 + i64::from(rand::random_range(0u8..90)))
}

/// Decoys and an order for a given right number (requests stored before choices were).
pub fn around(right: i64) -> Choices {
    let mut shown = [right; 3];
    let mut filled = 1;
    while filled < 3 {
        let candidate = 10 + i64::from(rand::random_range(0u8..90));
        if !shown[..filled].contains(&candidate) {
            shown[filled] = candidate;
            filled += 1;
        }
    }
    shown.swap(0, rand::random_range(0..3usize));
    Choices { right, shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_choices_hold_the_right_number_once_among_distinct_two_digit_numbers() {
        for _ in 0..1000 {
            let choices = draw();
            let parsed = Choices::parse(choices.right, &choices.to_json()).unwrap();
            assert_eq!(parsed.shown, choices.shown);
        }
    }

    #[test]
    fn stored_choices_without_the_right_number_are_refused() {
        assert!(Choices::parse(42, "[11,12,13]").is_none());
        assert!(Choices::parse(42, "[42,42,13]").is_none());
        assert!(Choices::parse(42, "[42,5,13]").is_none());
        assert!(Choices::parse(42, "").is_none());
        assert!(Choices::parse(42, "[42,11,13]").is_some());
    }
}
