//! The auth role's cases of the one error type (`crate::error::ApiError`).
//!
//! Policy: handlers return `AuthError`; storage and crypto failures are converted here, so a
//! request never sees a 500 for something it sent. `internal` is only for faults of our own
//! (a key that cannot sign), and its details go to the log, not to the caller.
pub use crate::error::ApiError as AuthError;
use http::StatusCode;

impl AuthError {
    /// Wrong username or password: one case, so both answer identically.
    pub fn bad_credentials() -> Self {
        Self::unauthorized("bad_credentials", "wrong username or password")
    }

    pub fn user_not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts; try again in {retry_after} s"),
        )
        .with_retry_after(retry_after)
    }
}

impl From<super::storage::StorageError> for AuthError {
    fn from(e: super::storage::StorageError) -> Self {
        use super::storage::StorageError;
        match e {
            StorageError::UsernameTaken => {
                AuthError::conflict("username_taken", "that username is taken; choose another")
            }
            StorageError::Unavailable(m) => {
                tracing::error!(error = %m, "auth storage unavailable");
                AuthError::unavailable("the user store is unavailable; try again shortly")
            }
        }
    }
}

pub type AuthResult<T> = Result<T, AuthError>;
