//! The static role's cases of the one error type (`crate::error::ApiError`).
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

use crate::error::ApiError;

impl ApiError {
    pub fn unsafe_path() -> Self {
        Self::bad_request(
            "bad_path",
            "the path has a `..`, `.`, encoded `/`, backslash, control character or empty segment",
        )
    }

    pub fn no_such_file(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no file /{key} in this app build"),
        )
    }
}

/// 405 with the `Allow` header the static server answers.
pub fn method_not_allowed() -> Response {
    let mut res =
        ApiError::method_not_allowed("the static server only answers GET and HEAD").into_response();
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    res
}
