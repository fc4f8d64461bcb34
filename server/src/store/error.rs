//! The store's cases of the one error type (`crate::error::ApiError`).
//!
//! Policy: handlers and middleware return `StoreError` built with the constructors below and
//! the shared ones in `crate::error`; the backends return `BackendError`, which always becomes a
//! 503 (the request may be retried once the backend is back).
pub use crate::error::ApiError as StoreError;
use axum::http::StatusCode;

impl StoreError {
    pub fn bad_id(raw: &str) -> Self {
        Self::bad_request(
            "bad_id",
            format!(
                "{raw:?} is not a model id; ids are UUIDs like 0190c6b2-7a4e-7c3d-9e1f-2b3c4d5e6f70"
            ),
        )
    }

    /// No model with this id.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no model {id}; list the models with GET /api/model"),
        )
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "etag_mismatch",
            "the model changed since you read it (If-Match does not match its ETag); GET it \
             again and reapply your change",
        )
    }

    pub fn route_not_found() -> Self {
        Self::no_such_route(
            "/api/model, /api/model/{id}, /api/model/{id}/versions, /api/changes, /api/info, \
             /healthz, /readyz and /metrics",
        )
    }

    pub fn model_method_not_allowed() -> Self {
        Self::method_not_allowed("see /api/model and /api/model/{id}")
    }

    pub fn model_media_type() -> Self {
        Self::unsupported_media_type("the model")
    }
}

impl From<crate::store::backend::BackendError> for StoreError {
    fn from(e: crate::store::backend::BackendError) -> Self {
        tracing::warn!(error = %e, "backend unavailable");
        StoreError::unavailable(format!(
            "the storage backend is not reachable ({e}); try again shortly"
        ))
    }
}
