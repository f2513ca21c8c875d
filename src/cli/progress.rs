//! The progress of a task `generate` follows, on stderr: a live line on a terminal, a line
//! per change otherwise.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::time::Instant;

use crate::seedance::TaskState;

/// The progress shown on stderr: a live line on a terminal, a line per change otherwise.
pub(super) struct Progress {
    live: bool,
    state: Option<String>,
    drawn: bool,
}

impl Progress {
    pub(super) fn new() -> Self {
        Progress {
            live: std::io::stderr().is_terminal(),
            state: None,
            drawn: false,
        }
    }

    pub(super) fn show(&mut self, state: &TaskState, started: Instant) {
        let changed = self.state.as_deref() != Some(state.as_str());
        self.state = Some(state.as_str().to_owned());
        if self.live {
            self.redraw(started);
        } else if changed {
            eprintln!("{state} after {}", whole_seconds(started.elapsed()));
        }
    }

    pub(super) fn redraw(&mut self, started: Instant) {
        let state = self.state.as_deref().unwrap_or("submitted");
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{state} · {}",
            whole_seconds(started.elapsed())
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// A passing remark (a retry), on its own line.
    pub(super) fn note(&mut self, text: &str) {
        self.finish();
        eprintln!("{text}");
    }

    /// Ends the live line so the next output starts clean.
    pub(super) fn finish(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }

    /// Sleeps, ticking the elapsed time once a second on a terminal.
    pub(super) async fn sleep(&mut self, wait: Duration, started: Instant) {
        if !self.live {
            tokio::time::sleep(wait).await;
            return;
        }
        let until = Instant::now() + wait;
        loop {
            self.redraw(started);
            let now = Instant::now();
            if now >= until {
                return;
            }
            tokio::time::sleep((until - now).min(Duration::from_secs(1))).await;
        }
    }
}

fn whole_seconds(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(d.as_secs()))
}
