//! The one HTTP error type of every role, and how it maps onto the JSON error contract
//! (`docs/architecture.md`, "The error contract").
//!
//! Policy:
//! - handlers, extractors and middleware of every role return `ApiError`;
//! - the constructors here are the cases that every role shares, with one `code` per case;
//! - each role adds its own cases in `<role>/error.rs` (e.g. `store::error`, `auth::error`);
//! - a backend or storage failure becomes a 503 (`unavailable`), which a client may retry;
//! - nothing a client sends may produce a 500. `internal` is for faults of our own, and its
//!   details go to the log, not to the caller.
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After`; 503s default to 1.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A path that no route of this service answers. `routes` lists what it does answer.
    pub fn no_such_route(routes: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("nothing answers this path here; this service serves {routes}"),
        )
    }

    pub fn method_not_allowed(hint: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this path does not take that method; {hint}"),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(what: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send {what} as JSON with Content-Type: application/json"),
        )
    }

    pub fn invalid_json() -> Self {
        Self::bad_request("invalid_json", "the body is not valid JSON")
    }

    pub fn headers_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the request's headers are larger than {limit} bytes in all"),
        )
    }

    /// A backend, storage or upstream that can't be reached right now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// A fault of our own. The detail is logged; the caller gets a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = sa_shared::error::ErrorBody::new(self.code, self.message);
        let mut res = (self.status, axum::Json(body)).into_response();
        let headers = res.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a request without credentials gets the bare challenge.
            let v = match self.code {
                "missing_token" => "Bearer".to_string(),
                code => format!("Bearer error=\"invalid_token\", error_description=\"{code}\""),
            };
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        let retry_after = match (self.retry_after, self.status) {
            (Some(s), _) => Some(s),
            (None, StatusCode::SERVICE_UNAVAILABLE) => Some(1),
            _ => None,
        };
        if let Some(s) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: ApiError) -> (StatusCode, http::HeaderMap, serde_json::Value) {
        let res = e.into_response();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (
            parts.status,
            parts.headers,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn answers_in_the_contract_with_its_headers() {
        let (status, headers, json) = body(ApiError::unavailable("down")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json["error"]["code"], "unavailable");
        assert_eq!(json["error"]["message"], "down");
        assert_eq!(headers[header::RETRY_AFTER], "1");

        let (status, headers, json) = body(ApiError::unauthorized("expired", "sign in")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(json["error"]["code"], "expired");
        assert!(headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));

        let (_, headers, _) = body(ApiError::bad_request("x", "y").with_retry_after(7)).await;
        assert_eq!(headers[header::RETRY_AFTER], "7");
    }

    #[tokio::test]
    async fn internal_hides_its_detail() {
        let (status, _, json) = body(ApiError::internal("the key file is gone")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key file"));
    }
}
