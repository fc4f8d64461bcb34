//! Authorised `fetch` for the browser apps: one place that adds the bearer token, refreshes it
//! once on a 401 and turns error bodies into [`ApiError`]s a person can act on.
use std::fmt;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestCredentials, RequestInit};

use super::session::Session;
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
        match super::json::from_json::<ErrorBody>(&body) {
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

/// Sends a request with the session's bearer token. On a 401 it refreshes the token once and
/// retries; non-2xx answers (other than 304) become an [`ApiError`].
pub async fn send(
    session: Session,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<Response, ApiError> {
    let token = session.fresh_token().await;
    let resp = fetch(method, url, headers, body.clone(), token.as_deref(), false).await?;
    let resp = if resp.status() == 401 {
        match session.refresh().await {
            Ok(()) => {
                let token = session.token();
                fetch(method, url, headers, body, token.as_deref(), false).await?
            }
            Err(_) => resp,
        }
    } else {
        resp
    };
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

/// The HTTP methods the apps use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    GET,
    POST,
    PUT,
    DELETE,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::DELETE => "DELETE",
        }
    }
}

/// An answer to a `fetch`: the browser's `Response`, read through the few calls the apps need.
/// (The apps call `fetch` directly rather than through gloo-net, whose error type brought
/// serde_json's and std's error texts into the wasm: docs/bench/explorer.md.)
pub struct Response(web_sys::Response);

impl Response {
    pub fn status(&self) -> u16 {
        self.0.status()
    }

    pub fn ok(&self) -> bool {
        self.0.ok()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.0.headers().get(name).ok().flatten()
    }

    /// The body as text.
    pub async fn text(&self) -> Result<String, String> {
        let promise = self.0.text().map_err(js_message)?;
        let text = JsFuture::from(promise).await.map_err(js_message)?;
        text.as_string()
            .ok_or_else(|| "the body is not text".to_string())
    }
}

/// What a JS exception says (`TypeError: Failed to fetch` → `Failed to fetch`).
fn js_message(e: JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => err.message().into(),
        None => e.as_string().unwrap_or_else(|| "unknown error".to_string()),
    }
}

/// One `fetch`. `credentials` sends cookies cross-origin (only the auth host needs them).
pub(crate) async fn fetch(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
    token: Option<&str>,
    credentials: bool,
) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method.as_str());
    if credentials {
        init.set_credentials(RequestCredentials::Include);
    }
    let h = Headers::new().map_err(|e| ApiError::network(js_message(e)))?;
    let set = |k: &str, v: &str| h.set(k, v).map_err(|e| ApiError::network(js_message(e)));
    if let Some(t) = token {
        set("Authorization", &format!("Bearer {t}"))?;
    }
    for (k, v) in headers {
        set(k, v)?;
    }
    if let Some(b) = body {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            set("Content-Type", "application/json")?;
        }
        init.set_body(&JsValue::from_str(&b));
    }
    init.set_headers(&h);
    let answer = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| ApiError::network(short(&js_message(e))))?;
    Ok(Response(answer.unchecked_into()))
}

/// Parses a JSON answer into a wire type.
pub async fn json<T: serde::de::DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    let text = resp
        .text()
        .await
        .map_err(|e| ApiError::bad_answer(short(&e)))?;
    super::json::from_json(&text).map_err(|e| ApiError::bad_answer(short(&e)))
}

fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
