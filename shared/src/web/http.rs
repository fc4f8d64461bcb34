//! TEMPORARY stand-in for the client engineer's `http.rs` (branch `client`), per INTERFACES.md.
use gloo_net::http::{Method, RequestBuilder, Response};

use super::session::Session;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub async fn send(session: Session, method: Method, url: &str, headers: &[(&str, &str)], body: Option<String>) -> Result<Response, ApiError> {
    let mut b = RequestBuilder::new(url).method(method);
    if let Some(t) = session.access_token() {
        b = b.header("Authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        b = b.header(k, v);
    }
    let net = |e: gloo_net::Error| ApiError { status: 0, code: "network".into(), message: e.to_string() };
    let resp = match body {
        Some(s) => b.body(s).map_err(net)?.send().await.map_err(net)?,
        None => b.send().await.map_err(net)?,
    };
    if resp.ok() || resp.status() == 304 {
        return Ok(resp);
    }
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<crate::error::ErrorBody>(&text) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => ("http_error".into(), format!("the server answered {status}")),
    };
    Err(ApiError { status, code, message })
}
