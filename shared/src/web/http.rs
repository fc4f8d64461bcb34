//! HTTP for the browser apps, on gloo-net: sending a request, and turning what comes back (or
//! doesn't) into [`ApiError`]s a person can act on. The bearer token and the refresh on a 401
//! are the session's part ([`super::session::Session::send`]).
use std::fmt;

pub use gloo_net::http::{Method, Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::error::ErrorBody;

/// A failed call, ready to show: `status` is 0 when the server was never reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The server could not be reached at all (offline, DNS, CORS refusal, server down).
    pub fn network(detail: impl fmt::Display) -> Self {
        ApiError::new(
            0,
            "network",
            format!("Could not reach the server ({detail}). Check your connection and try again."),
        )
    }

    /// The answer arrived but was not what the contract promises.
    pub fn bad_answer(detail: impl fmt::Display) -> Self {
        ApiError::new(0, "bad_answer", format!("The server sent an answer this app does not understand ({detail}). Reload the page; if it persists, the server may be a different version."))
    }

    pub fn is_network(&self) -> bool {
        self.status == 0 && self.code == "network"
    }

    /// Reads a non-2xx answer: the JSON error contract when the body has it, otherwise a
    /// message chosen by status so the user still learns what to do.
    pub async fn from_response(resp: Response) -> Self {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(b) => ApiError::new(status, b.error.code, b.error.message),
            Err(_) => ApiError::for_status(status),
        }
    }

    /// The default explanation for a status without an error body (e.g. a gateway's own page).
    pub fn for_status(status: u16) -> Self {
        let (code, message) = match status {
            400 => (
                "bad_request",
                "The server could not use this request. Check what you entered.",
            ),
            401 => (
                "unauthorized",
                "You are not signed in, or your session has ended. Sign in again.",
            ),
            403 => (
                "forbidden",
                "Your account may not do this. Ask an admin for the writer role.",
            ),
            404 => ("not_found", "It is not there: it may have been deleted."),
            409 => ("conflict", "That already exists."),
            412 => ("stale", "Someone saved a newer version in the meantime."),
            413 => ("too_large", "This is larger than the store accepts."),
            429 => (
                "rate_limited",
                "Too many attempts. Wait a minute and try again.",
            ),
            502..=504 => (
                "unavailable",
                "The service is unavailable right now. Try again in a minute.",
            ),
            _ => (
                "http_error",
                "The server could not complete the request. Try again later.",
            ),
        };
        ApiError::new(status, code, format!("{message} (HTTP {status})"))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// Sends a request built with gloo-net. A request that never got an answer (offline, DNS,
/// CORS) becomes [`ApiError::network`]; a non-2xx answer (other than 304) becomes the error its
/// body describes.
pub async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let request = request.map_err(|e| ApiError::bad_answer(short(&e.to_string())))?;
    let resp = request
        .send()
        .await
        .map_err(|e| ApiError::network(short(&message(&e))))?;
    check(resp).await
}

/// Turns a non-2xx answer into an error; 304 counts as success for conditional GETs.
pub async fn check(resp: Response) -> Result<Response, ApiError> {
    if resp.ok() || resp.status() == 304 {
        Ok(resp)
    } else {
        Err(ApiError::from_response(resp).await)
    }
}

/// Parses a JSON answer into a wire type.
///
/// What gloo-net's `Response::json` does (the text, then `serde_json::from_str`), with the
/// waiting for the text in [`text`], which is not generic: `json` is called for 9 wire types,
/// and each used to carry its own copy of that future (BENCHMARKS.md, issue 14, "One `send`").
pub async fn json<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    let body = text(resp).await?;
    serde_json::from_str(&body).map_err(|e| ApiError::bad_answer(short(&e.to_string())))
}

/// The body of an answer as text.
pub async fn text(resp: Response) -> Result<String, ApiError> {
    resp.text()
        .await
        .map_err(|e| ApiError::bad_answer(short(&message(&e))))
}

/// What went wrong, without the JS error's class name (`TypeError: Failed to fetch` →
/// `Failed to fetch`).
fn message(e: &gloo_net::Error) -> String {
    match e {
        gloo_net::Error::JsError(js) => js.message.clone(),
        other => other.to_string(),
    }
}

fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
