//! Unix time in seconds, injectable: the system clock in production, and a clock that a test
//! moves forward instead of waiting (key rotation, token expiry).
use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Seconds added to the system time; only a test's clock has one.
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Starts at the system time and moves on with it, plus whatever `advance` adds.
    pub fn adjustable() -> Clock {
        Clock {
            offset: Some(Arc::default()),
        }
    }

    pub fn now(&self) -> i64 {
        let system = time::OffsetDateTime::now_utc().unix_timestamp();
        system + self.offset.as_ref().map_or(0, |o| o.load(Ordering::SeqCst))
    }

    /// Moves an adjustable clock forward; a system clock can't be moved.
    pub fn advance(&self, secs: i64) {
        self.offset
            .as_ref()
            .expect("only an adjustable clock can be advanced")
            .fetch_add(secs, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_only_that_clock_and_its_clones() {
        let c = Clock::adjustable();
        let seen_by_service = c.clone();
        let before = Clock::system().now();
        c.advance(3600);
        assert!(seen_by_service.now() >= before + 3600);
        assert!(Clock::system().now() < before + 3600);
    }
}
