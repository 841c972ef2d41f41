//! The one retry pause policy: exponential, capped, with jitter. Used by the
//! sink tasks, the source reader's reconnects and anything else that retries.

use std::time::Duration;

/// Each delay is drawn from [d/2, d]; d starts at `initial` and doubles up to
/// `maximum`. Arithmetic saturates: no configuration can make it panic.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    maximum: Duration,
    current: Duration,
    random: u64,
}

impl Backoff {
    /// `salt` spreads the jitter of several retriers started at the same moment.
    pub(crate) fn new(initial: Duration, maximum: Duration, salt: u64) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        let maximum = maximum.max(initial);
        Backoff {
            initial,
            maximum,
            current: initial,
            random: (seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1,
        }
    }

    /// Back to the initial delay (after a success).
    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }

    /// The next pause.
    pub(crate) fn next_delay(&mut self) -> Duration {
        // xorshift64
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let thousandths = 500 + (self.random % 501) as u32;
        let delay = (self.current / 1000).saturating_mul(thousandths);
        self.current = self.current.saturating_mul(2).min(self.maximum);
        delay
    }

    /// The next pause, but at least what the peer asked for (`Retry-After`),
    /// which is itself capped at the maximum: a peer cannot park us for a year.
    pub(crate) fn next_delay_after(&mut self, requested: Option<Duration>) -> Duration {
        let delay = self.next_delay();
        requested.map_or(delay, |asked| delay.max(asked.min(self.maximum)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_maximum_with_jitter_in_the_upper_half() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(800), 3);
        for bound in [100, 200, 400, 800, 800, 800] {
            let delay = backoff.next_delay();
            let bound = Duration::from_millis(bound);
            assert!(
                delay >= bound / 2 && delay <= bound,
                "{delay:?} not in [{:?}, {bound:?}]",
                bound / 2
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn absurd_durations_saturate_instead_of_panicking() {
        let huge = Duration::from_secs(u64::MAX / 4);
        let mut backoff = Backoff::new(huge, Duration::MAX, 1);
        for _ in 0..80 {
            assert!(backoff.next_delay() <= Duration::MAX);
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_maximum() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(60), 1);
        assert_eq!(
            backoff.next_delay_after(Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
        assert_eq!(
            backoff.next_delay_after(Some(Duration::from_secs(31_536_000))),
            Duration::from_secs(60)
        );
    }
}
