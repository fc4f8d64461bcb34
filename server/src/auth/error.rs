//! The auth role's one error type and how it maps onto the JSON error contract.
//!
//! Policy: handlers return `AuthError`; storage and crypto failures are converted here, so a
//! request never sees a 500 for something it sent. `Internal` is only for faults of our own
//! (a key that cannot sign), and its details go to the log, not to the caller.
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Missing, malformed, expired or foreign bearer token.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Wrong username or password: one variant so both cases answer identically.
    #[error("wrong username or password")]
    BadCredentials,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("too many attempts; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::BadRequest {
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::Unauthorized {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::Forbidden {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AuthError::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        AuthError::NotFound(message.into())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AuthError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            AuthError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            AuthError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            AuthError::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            AuthError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AuthError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AuthError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AuthError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AuthError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
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
                AuthError::Unavailable("the user store is unavailable; try again shortly".into())
            }
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            AuthError::Internal(detail) => {
                tracing::error!(%detail, "auth internal error");
                "something went wrong on our side; try again".to_string()
            }
            other => other.to_string(),
        };
        let mut res = crate::serve::json_error(status, code, message);
        match &self {
            AuthError::RateLimited { retry_after } => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            AuthError::Unauthorized { .. } => {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res
    }
}

pub type AuthResult<T> = Result<T, AuthError>;
