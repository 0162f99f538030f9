//! A progress line on stderr for imports and exports of many entries: one line rewritten in
//! place (`\r`), so a user moving a thousand accounts sees it working, while scripts and
//! pipes (stderr not a terminal) get nothing unless they ask with `--progress`.

use std::io::{IsTerminal, Write};

/// From this many entries a terminal shows progress by itself: below it the work is too
/// quick for a line to be worth drawing.
pub const MANY_ENTRIES: usize = 100;

pub struct Progress {
    enabled: bool,
    /// Length of the line last drawn, to blank what a shorter line leaves behind.
    drawn: usize,
}

impl Progress {
    /// Progress for work on `entries` entries: shown when `forced` (`--progress`), or
    /// when stderr is a terminal and there are [`MANY_ENTRIES`] or more.
    pub fn new(forced: bool, entries: usize) -> Progress {
        let enabled = forced || (entries >= MANY_ENTRIES && std::io::stderr().is_terminal());
        Progress { enabled, drawn: 0 }
    }

    /// Replaces the line with `text`.
    pub fn show(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let blank = self.drawn.saturating_sub(text.chars().count());
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be drawn is not worth failing the import for.
        let _ = write!(err, "\r{text}{}", " ".repeat(blank));
        let _ = err.flush();
        self.drawn = text.chars().count();
    }

    /// `what: done/total`.
    pub fn count(&mut self, what: &str, done: usize, total: usize) {
        self.show(&format!("{what}: {done}/{total}"));
    }

    /// Ends the line (the last text stays visible).
    pub fn finish(&mut self) {
        if self.enabled && self.drawn > 0 {
            eprintln!();
            self.drawn = 0;
        }
    }
}
