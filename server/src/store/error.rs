//! The store's one error type and how it maps onto the JSON error contract.
//!
//! Policy: handlers and middleware return `StoreError` built with the constructors below; the
//! backends return `BackendError`, which always becomes a 503 (the request may be retried once the
//! backend is back). Nothing a client sends may produce a 500: only a bug in this crate can.
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StoreError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl StoreError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn bad_id(raw: &str) -> Self {
        Self::bad_request("bad_id", format!("{raw:?} is not a model id; ids are UUIDs like 0190c6b2-7a4e-7c3d-9e1f-2b3c4d5e6f70"))
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no model {id}; list the models with GET /api/model"),
        )
    }
    pub fn precondition_failed() -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "etag_mismatch", "the model changed since you read it (If-Match does not match its ETag); GET it again and reapply your change")
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the model as JSON with Content-Type: application/json",
        )
    }
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "no_route", "the store serves /api/model, /api/model/{id}, /api/model/{id}/versions, /api/changes, /api/info, /healthz, /readyz and /metrics")
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take that method; see /api/model and /api/model/{id}",
        )
    }
}

impl From<crate::store::backend::BackendError> for StoreError {
    fn from(e: crate::store::backend::BackendError) -> Self {
        tracing::warn!(error = %e, "backend unavailable");
        StoreError::unavailable(
            "backend_unavailable",
            format!("the storage backend is not reachable ({e}); try again shortly"),
        )
    }
}

impl IntoResponse for StoreError {
    fn into_response(self) -> Response {
        let mut res = crate::serve::json_error(self.status, self.code, self.message);
        match self.status {
            StatusCode::UNAUTHORIZED => {
                let v = format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    self.code
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        res
    }
}
