//! What the engine records about a log failure, and how long it waits before retrying a base
//! write: data shared by the engine and its health bookkeeping, with no logic of either.

/// What went wrong with the log, while it is not whole.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// `strerror` text for replies: no path.
    pub reason: String,
    /// Operation, path and error, for logs and [`Status`](super::Status).
    pub detail: String,
    /// The highest segment a failed write or fsync touched.
    pub poisoned_seg: u64,
    /// Fail-stop: never cleared.
    pub terminal: bool,
}

/// After `n` failed rewrites in a row, the next automatic attempt waits this long: 1 s,
/// doubling up to a minute, so a full disk is not hammered with base writes that cannot fit
/// yet a freed disk is noticed soon.
pub(crate) fn retry_delay_ms(n: u64) -> u64 {
    match n {
        0 => 0,
        n => (1000u64 << (n - 1).min(6)).min(60_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute() {
        let d: Vec<u64> = (0..10).map(retry_delay_ms).collect();
        assert_eq!(
            d,
            [0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]
        );
    }
}
