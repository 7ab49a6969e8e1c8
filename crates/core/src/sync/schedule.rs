//! When to try again: exponential backoff with full jitter over the run of
//! consecutive failed requests (`till_provider_http::RetryPolicy`), never
//! shorter than the hub's `Retry-After`.

use std::time::Duration;
use till_provider_http::RetryPolicy;

/// The sender's backoff. The dead-letter limit is counted per record in the
/// journal (`hub.max_attempts`); this only spaces the requests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            policy: RetryPolicy {
                // The policy's own budget is not what ends a record's retries.
                max_attempts: u32::MAX,
                base,
                max_delay: max,
            },
        }
    }

    /// Delay after the `streak`-th consecutive failure (1 = the first).
    pub fn delay(&self, streak: u32, retry_after: Option<Duration>) -> Duration {
        self.policy
            .delay(streak.max(1), retry_after)
            .unwrap_or(self.policy.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_honours_retry_after() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        for _ in 0..200 {
            assert!(b.delay(1, None) <= Duration::from_millis(100));
            assert!(b.delay(3, None) <= Duration::from_millis(400));
            assert!(b.delay(30, None) <= Duration::from_millis(800));
        }
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        // Jitter: not always the ceiling.
        let ds: std::collections::BTreeSet<_> = (0..50).map(|_| b.delay(10, None)).collect();
        assert!(ds.len() > 1);
    }
}
