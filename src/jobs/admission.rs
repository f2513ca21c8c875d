//! Counting the commands of this process that are being admitted (from their start to
//! their job's admission), so the Discord side can answer at once while others are.

use std::sync::Arc;

use super::Jobs;

/// One command being admitted, counted by [`Jobs::admitting`] while it lives.
#[must_use = "the admission is counted only while the guard lives"]
pub struct Admission(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Jobs {
    /// Counts a command that is about to admit a job (its checks, reads and the durable
    /// admit), until the guard is dropped.
    pub fn admission(&self) -> Admission {
        let count = self.inner.admitting.clone();
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Admission(count)
    }

    /// How many commands of this process are being admitted now (see [`Jobs::admission`]).
    pub fn admitting(&self) -> usize {
        self.inner
            .admitting
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}
