//! Browser-side helpers shared by the client and the explorer (wasm only).
use crate::config::RuntimeConfig;

pub mod auth_api;
pub mod doc;
pub mod http;
pub mod loader;
pub mod session;
pub mod store_api;
pub mod url;

/// Loads `/config.json` from the app's own origin. Under `trunk serve` there is none, so the
/// local dev backend's config applies.
pub async fn load_config() -> RuntimeConfig {
    match gloo_net::http::Request::get("/config.json").send().await {
        Ok(resp) if resp.ok() => resp.json::<RuntimeConfig>().await.unwrap_or_else(|_| RuntimeConfig::local_dev()),
        _ => RuntimeConfig::local_dev(),
    }
}
