//! The dev gateway's cases of the one error type (`crate::error::ApiError`): answers it gives
//! itself, without reaching a role.
use http::StatusCode;

use crate::error::ApiError;

impl ApiError {
    pub fn unknown_host(host: &str, domain: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_host",
            format!(
                "no service answers host {host:?}; use client., explorer., store. or auth.{domain}"
            ),
        )
    }

    pub fn store_not_running(title: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_not_configured",
            format!(
                "the {title} store is not running here; `cargo xtask dev` starts it when its \
                 server is installed, or give its URL (--redis-url / --database-url)"
            ),
        )
    }

    pub fn fault_injected(status: StatusCode, header: &str, value: &str) -> Self {
        Self::new(
            status,
            "fault_injected",
            format!(
                "{header}: {value} answered by the gateway without reaching the store (fault \
                 injection for tagged test traffic)"
            ),
        )
    }

    pub fn bad_path() -> Self {
        Self::bad_request("bad_path", "the request path is not a valid URI")
    }
}
