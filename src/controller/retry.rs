//! When a failed sync is tried again: `spec.syncPolicy.retry` with Argo CD's
//! defaults (5 retries, 5s, x2, at most 3m), plus jitter so that many
//! Applications failing together (an API server restart) do not retry in
//! lockstep.
//!
//! An Application without `retry` gets the defaults: DESIGN promises that a
//! failed sync schedules a retry, and an operator expects a network blip to
//! heal on its own. `limit: 0` turns retries off; a negative limit never gives
//! up. Only transient failures are retried (see `Outcome::retryable`); a
//! broken manifest or a project violation fails the same way every time.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::api::{RetryStrategy, parse_duration};

/// Argo CD's default number of retries.
pub const DEFAULT_LIMIT: i64 = 5;
const DEFAULT_DURATION: Duration = Duration::from_secs(5);
const DEFAULT_FACTOR: i64 = 2;
const DEFAULT_MAX: Duration = Duration::from_secs(180);

/// A validated retry policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Retries after the first failure; negative means no limit.
    pub limit: i64,
    /// The first delay.
    pub duration: Duration,
    /// The multiplier after each retry.
    pub factor: i64,
    /// The longest delay.
    pub max_duration: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            limit: DEFAULT_LIMIT,
            duration: DEFAULT_DURATION,
            factor: DEFAULT_FACTOR,
            max_duration: DEFAULT_MAX,
        }
    }
}

/// What to do after a failed sync.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Try again after `delay`; this will be retry number `attempt` (from 1).
    Retry { attempt: i64, delay: Duration },
    /// The limit is reached.
    GiveUp { retries: i64 },
    /// The failure is permanent: the same input fails the same way.
    Permanent,
}

impl Policy {
    /// The policy of `spec.syncPolicy.retry`; errors name the field.
    pub fn of(retry: Option<&RetryStrategy>) -> Result<Policy, String> {
        let mut policy = Policy::default();
        let Some(retry) = retry else {
            return Ok(policy);
        };
        if let Some(limit) = retry.limit {
            policy.limit = limit;
        }
        if let Some(backoff) = &retry.backoff {
            if let Some(d) = &backoff.duration {
                policy.duration = parse_duration(d)
                    .map_err(|e| format!("spec.syncPolicy.retry.backoff.duration: {e}"))?;
            }
            if let Some(factor) = backoff.factor {
                if factor < 1 {
                    return Err(format!(
                        "spec.syncPolicy.retry.backoff.factor: must be at least 1, got {factor}"
                    ));
                }
                policy.factor = factor;
            }
            if let Some(d) = &backoff.max_duration {
                policy.max_duration = parse_duration(d)
                    .map_err(|e| format!("spec.syncPolicy.retry.backoff.maxDuration: {e}"))?;
            }
        }
        if policy.duration.is_zero() {
            return Err("spec.syncPolicy.retry.backoff.duration: must be more than 0".into());
        }
        policy.max_duration = policy.max_duration.max(policy.duration);
        Ok(policy)
    }

    /// After a failure that followed `retries_done` retries.
    pub fn next(&self, retries_done: i64, retryable: bool) -> Next {
        if !retryable {
            return Next::Permanent;
        }
        if self.limit >= 0 && retries_done >= self.limit {
            return Next::GiveUp {
                retries: retries_done,
            };
        }
        Next::Retry {
            attempt: retries_done + 1,
            delay: self.delay(retries_done),
        }
    }

    /// The delay before retry `retries_done + 1`: `duration * factor^n`,
    /// capped at `maxDuration`, plus up to the same again as jitter (still
    /// capped, so `maxDuration` stays a promise).
    pub fn delay(&self, retries_done: i64) -> Duration {
        // past ~64 doublings every factor has hit the cap
        let n = usize::try_from(retries_done).unwrap_or(0).min(64);
        let delay = ExponentialBuilder::default()
            .with_min_delay(self.duration)
            .with_factor(self.factor as f32)
            .with_max_delay(self.max_duration)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(n)
            .unwrap_or(self.max_duration);
        delay.min(self.max_duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Backoff;

    fn strategy(limit: Option<i64>, d: &str, factor: i64, max: &str) -> RetryStrategy {
        RetryStrategy {
            limit,
            backoff: Some(Backoff {
                duration: Some(d.into()),
                factor: Some(factor),
                max_duration: Some(max.into()),
            }),
        }
    }

    #[test]
    fn defaults_are_argo_cds() {
        let p = Policy::of(None).unwrap();
        assert_eq!(p, Policy::default());
        assert_eq!((p.limit, p.factor), (5, 2));
        assert_eq!(p.duration, Duration::from_secs(5));
        assert_eq!(p.max_duration, Duration::from_secs(180));
        // fields left out keep their defaults
        let partial = RetryStrategy {
            limit: Some(2),
            backoff: None,
        };
        let p = Policy::of(Some(&partial)).unwrap();
        assert_eq!((p.limit, p.duration), (2, Duration::from_secs(5)));
    }

    #[test]
    fn delays_grow_by_the_factor_with_jitter_and_stay_under_the_cap() {
        let p = Policy::of(Some(&strategy(None, "1s", 3, "20s"))).unwrap();
        for _ in 0..50 {
            let ranges = [(1, 2), (3, 6), (9, 18), (20, 20), (20, 20)];
            for (n, (lo, hi)) in ranges.iter().enumerate() {
                let d = p.delay(n as i64);
                assert!(
                    d >= Duration::from_secs(*lo) && d <= Duration::from_secs(*hi),
                    "retry {n}: {d:?} not in {lo}s..={hi}s"
                );
            }
        }
    }

    #[test]
    fn limits_and_permanent_failures() {
        let p = Policy::of(Some(&strategy(Some(2), "5s", 2, "3m"))).unwrap();
        assert!(matches!(p.next(0, true), Next::Retry { attempt: 1, .. }));
        assert!(matches!(p.next(1, true), Next::Retry { attempt: 2, .. }));
        assert_eq!(p.next(2, true), Next::GiveUp { retries: 2 });
        assert_eq!(p.next(0, false), Next::Permanent);
        let off = Policy::of(Some(&strategy(Some(0), "5s", 2, "3m"))).unwrap();
        assert_eq!(off.next(0, true), Next::GiveUp { retries: 0 });
        let forever = Policy::of(Some(&strategy(Some(-1), "5s", 2, "3m"))).unwrap();
        assert!(matches!(
            forever.next(1000, true),
            Next::Retry { attempt: 1001, delay } if delay == Duration::from_secs(180)
        ));
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = Policy::of(Some(&strategy(None, "5 parsecs", 2, "3m"))).unwrap_err();
        assert!(
            e.starts_with("spec.syncPolicy.retry.backoff.duration:"),
            "{e}"
        );
        let e = Policy::of(Some(&strategy(None, "5s", 0, "3m"))).unwrap_err();
        assert!(
            e.starts_with("spec.syncPolicy.retry.backoff.factor:"),
            "{e}"
        );
        let e = Policy::of(Some(&strategy(None, "5s", 2, "x"))).unwrap_err();
        assert!(
            e.starts_with("spec.syncPolicy.retry.backoff.maxDuration:"),
            "{e}"
        );
        let e = Policy::of(Some(&strategy(None, "0s", 2, "3m"))).unwrap_err();
        assert!(e.contains("more than 0"), "{e}");
    }
}
