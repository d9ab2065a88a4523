//! Backoff between attempts: exponential with full jitter, honouring the
//! upstream's `Retry-After` when it is short enough to be worth waiting for.

use std::time::Duration;

use rand::Rng;

const BASE: Duration = Duration::from_millis(200);
const CAP: Duration = Duration::from_secs(8);
/// A `Retry-After` longer than this is not waited for: the next key or model is tried instead.
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// How long to wait before attempt number `attempt` (1 = the first retry).
pub fn delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after.filter(|d| *d <= MAX_WAIT) {
        return ra;
    }
    let ceiling = BASE.saturating_mul(1u32 << attempt.min(16)).min(CAP);
    let ms = rand::thread_rng().gen_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jittered_and_capped() {
        for attempt in 1..20 {
            let d = delay(attempt, None);
            assert!(d <= CAP, "{d:?}");
        }
        assert_eq!(delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert!(delay(1, Some(Duration::from_secs(600))) <= CAP, "long Retry-After is not waited for");
    }
}
