//! Waiting on a condition without racing the clock: poll it in short steps, up to a bound that
//! only decides when to give up (never what passes).
use std::{future::Future, time::Duration};

const STEP: Duration = Duration::from_millis(20);
/// 20 ms × 1,500 = 30 s: long enough for a loaded machine, short enough to end a broken run.
const ATTEMPTS: u32 = 1_500;

/// Polls `check` until it returns `Some`, and returns that value. Panics with `what` if it never
/// does within the bound.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..ATTEMPTS {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(STEP).await;
    }
    panic!("gave up waiting: {what}");
}
