//! Browser-side helpers shared by the client and the explorer (wasm only).
use crate::config::RuntimeConfig;

pub mod auth_api;
pub mod doc;
pub mod feed;
pub mod http;
pub mod session;
pub mod store_api;

/// Lower case by the browser's Unicode rules: Rust's own `to_lowercase` would add its case
/// tables (kilobytes) to the wasm.
pub fn lowercase(s: &str) -> String {
    js_sys::JsString::from(s).to_lower_case().into()
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}

/// Loads `/config.json` from the app's own origin. Under `trunk serve` there is none, so the
/// local dev backend's config applies.
pub async fn load_config() -> RuntimeConfig {
    match http::send(http::Request::get("/config.json").build()).await {
        Ok(resp) => http::json(resp)
            .await
            .unwrap_or_else(|_| RuntimeConfig::local_dev()),
        Err(_) => RuntimeConfig::local_dev(),
    }
}
