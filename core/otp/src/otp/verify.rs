//! Checking a typed code against the codes around a time step or counter.

use serde::{Deserialize, Serialize};

use super::{Code, totp_step};

/// How many steps (TOTP) around the current one are accepted. RFC 6238 section 5.2
/// recommends at most one step behind for network delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub behind: u32,
    pub ahead: u32,
}

impl Window {
    pub const EXACT: Window = Window {
        behind: 0,
        ahead: 0,
    };

    /// One step either side: the usual tolerance for a phone's clock and a user's typing.
    pub const fn symmetric(steps: u32) -> Window {
        Window {
            behind: steps,
            ahead: steps,
        }
    }
}

impl Default for Window {
    fn default() -> Self {
        Window::symmetric(1)
    }
}

/// Which time step a TOTP code matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpMatch {
    /// The matched step T; a server stores it and refuses codes at or before it afterwards.
    pub step: u64,
    /// `step` minus the current step: negative when the code came from the past.
    pub offset: i64,
}

/// Which counter an HOTP code matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotpMatch {
    pub counter: u64,
    /// The counter to store afterwards: `counter + 1`.
    pub next_counter: u64,
}

/// Looks for `typed` among the codes of the steps in `window` around `unix_time`, nearest
/// first. Steps at or before `last_used_step` are skipped so an accepted code cannot be
/// replayed. `code_at` computes the code of one step.
pub fn verify_totp(
    typed: &str,
    unix_time: u64,
    period: u32,
    window: Window,
    last_used_step: Option<u64>,
    code_at: impl Fn(u64) -> Code,
) -> Option<TotpMatch> {
    let now = totp_step(unix_time, period);
    let first = now.saturating_sub(u64::from(window.behind));
    let last = now.saturating_add(u64::from(window.ahead));
    let mut candidates: Vec<u64> = (first..=last).collect();
    // Nearest first, so the reported offset is the smallest that explains the code.
    candidates.sort_by_key(|step| step.abs_diff(now));
    candidates
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|used| *step > used))
        .find(|step| code_at(*step).matches(typed))
        .map(|step| TotpMatch {
            step,
            offset: step as i64 - now as i64,
        })
}

/// Looks for `typed` among the counters `counter ..= counter + look_ahead` (RFC 4226
/// section 7.4: the server's look-ahead window).
pub fn verify_hotp(
    typed: &str,
    counter: u64,
    look_ahead: u32,
    code_at: impl Fn(u64) -> Code,
) -> Option<HotpMatch> {
    let last = counter.saturating_add(u64::from(look_ahead));
    (counter..=last)
        .find(|c| code_at(*c).matches(typed))
        .map(|c| HotpMatch {
            counter: c,
            next_counter: c.saturating_add(1),
        })
}

/// HOTP resynchronisation (RFC 4226 appendix E.4): two consecutive codes found anywhere in
/// `counter ..= counter + search` re-anchor the counter. Returns the match of the second.
pub fn resync_hotp(
    first: &str,
    second: &str,
    counter: u64,
    search: u32,
    code_at: impl Fn(u64) -> Code,
) -> Option<HotpMatch> {
    let last = counter.saturating_add(u64::from(search));
    (counter..last)
        .find(|c| code_at(*c).matches(first) && code_at(c + 1).matches(second))
        .map(|c| HotpMatch {
            counter: c + 1,
            next_counter: c + 2,
        })
}
