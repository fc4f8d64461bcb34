//! Waiting on a condition without racing the clock: poll it in short steps, up to a bound that
//! only decides when to give up (never what passes).
use std::{future::Future, time::Duration};

const STEP: Duration = Duration::from_millis(20);
/// 20 ms × 1,500 = 30 s: long enough for a loaded machine, short enough to end a broken run.
const BOUND: Duration = Duration::from_secs(30);

/// Polls `check` until it returns `Some`, and returns that value. Panics with `what` if it never
/// does within the bound.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(what, BOUND, check).await
}

/// [`eventually`] with a bound of its own, for a condition that may take longer (or should
/// give up sooner) than the usual 30 s. The bound is counted in polling steps, not read off
/// the clock, so a slow machine gets as many polls as a fast one.
pub async fn eventually_within<T, F, Fut>(what: &str, bound: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll_within(bound, check).await {
        Some(v) => v,
        None => panic!("gave up waiting: {what} (polled for {bound:?})"),
    }
}

/// Polls `check` in steps until it returns `Some`, or gives `None` after `bound`'s worth of
/// steps; for callers that fail in their own way (the browser fails with a screenshot).
pub async fn poll_within<T, F, Fut>(bound: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let attempts = (bound.as_millis() / STEP.as_millis()).max(1);
    for _ in 0..attempts {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(STEP).await;
    }
    None
}
