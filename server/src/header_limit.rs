//! The request header section is bounded on every role: 16 KiB in all is plenty for a bearer
//! JWT and a browser's cookies, and anything larger is either a mistake or an attempt to make
//! the server hold memory per connection. Over it the answer is `431` in the JSON error
//! contract. `serve::serve`, which every role and the dev gateway listen through, mounts it.
//!
//! hyper refuses by itself only at its read buffer's limit (about 400 KiB), and then with an
//! empty body; this layer answers everything between the two limits.
use axum::{extract::Request, http::StatusCode, middleware::Next, response::Response};

/// The largest header section accepted, counted as on the wire: `name: value\r\n` per field.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The size of the header section as the client sent it (the request line excluded).
pub fn header_bytes(req: &Request) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Middleware (`axum::middleware::from_fn(header_limit::check)`): 431 when the header section
/// is over [`MAX_HEADER_BYTES`].
pub async fn check(req: Request, next: Next) -> Response {
    let size = header_bytes(&req);
    if size > MAX_HEADER_BYTES {
        return axum::response::IntoResponse::into_response(crate::error::ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request's headers are {size} bytes in all; the limit is {MAX_HEADER_BYTES}: send a shorter token or fewer cookies"
            ),
        ));
    }
    next.run(req).await
}
