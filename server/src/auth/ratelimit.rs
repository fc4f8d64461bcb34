//! Login and registration limits, per client IP and per account name (GCRA via `governor`).
//!
//! Both limits apply: the per-IP one slows a single host trying many accounts, the per-account
//! one slows many hosts trying one account.
use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::AuthError;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Attempts per minute from one IP (also the burst).
    pub per_ip_per_minute: u32,
    /// Attempts per minute on one account name (also the burst).
    pub per_account_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip_per_minute: 30,
            per_account_per_minute: 10,
        }
    }
}

pub struct RateLimits {
    ip: DefaultKeyedRateLimiter<IpAddr>,
    account: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(limits: Limits) -> RateLimits {
        RateLimits {
            ip: RateLimiter::keyed(quota(limits.per_ip_per_minute)),
            account: RateLimiter::keyed(quota(limits.per_account_per_minute)),
        }
    }

    /// Takes one attempt from both budgets, or says how long to wait.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), AuthError> {
        if let Some(ip) = ip {
            self.ip
                .check_key(&ip)
                .map_err(|n| limited(n.wait_time_from(self.ip.clock().now())))?;
        }
        self.account
            .check_key(&account.to_string())
            .map_err(|n| limited(n.wait_time_from(self.account.clock().now())))
    }

    /// Forgets keys whose budget is full again, so the maps don't grow without bound.
    pub fn sweep(&self) {
        self.ip.retain_recent();
        self.account.retain_recent();
        self.ip.shrink_to_fit();
        self.account.shrink_to_fit();
    }
}

fn limited(wait: Duration) -> AuthError {
    // Retry-After is whole seconds; rounding down would invite a retry that fails again.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    AuthError::rate_limited(secs.max(1))
}
