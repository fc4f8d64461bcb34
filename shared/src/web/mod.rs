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

/// A `performance.mark`, which the benchmarks and the first-view test read (docs/bench/client.md).
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Adds the stylesheet `name` (`style/{name}.css`) to the page, and waits until it has loaded
/// (or failed to). The split build keeps the stylesheets of its lazy parts out of the first
/// load: `cargo xtask build` moves their `<link>`s into `<template id="sa-lazy-css">`, and the
/// lazy part calls this before it renders, so it is never shown unstyled. Where the page links
/// the stylesheet itself (`trunk serve`), or once it has been added, this returns at once.
///
/// The link is added at once; the future (`Send`, as `Suspend` wants, through `SendWrapper`:
/// the apps are single-threaded) waits for it.
pub fn stylesheet(name: &str) -> impl std::future::Future<Output = ()> + Send {
    let loaded = add_stylesheet(name).map(wasm_bindgen_futures::JsFuture::from);
    send_wrapper::SendWrapper::new(async move {
        if let Some(loaded) = loaded {
            let _ = loaded.await;
        }
    })
}

/// [`stylesheet`] for several at once: every link goes in at once, so they load side by side.
pub fn stylesheets(names: &[&str]) -> impl std::future::Future<Output = ()> + Send {
    let loading: Vec<_> = names.iter().map(|name| stylesheet(name)).collect();
    async move {
        for sheet in loading {
            sheet.await;
        }
    }
}

fn add_stylesheet(name: &str) -> Option<js_sys::Promise> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?.document()?;
    let template: web_sys::HtmlTemplateElement =
        doc.get_element_by_id("sa-lazy-css")?.dyn_into().ok()?;
    let link = template
        .content()
        .query_selector(&format!("link[href*='/{name}-']"))
        .ok()??;
    let loaded = js_sys::Promise::new(&mut |done, _| {
        let _ = link.add_event_listener_with_callback("load", &done);
        let _ = link.add_event_listener_with_callback("error", &done);
    });
    // Moved, not copied: a second call finds nothing left to add.
    doc.head()?.append_child(&link).ok()?;
    Some(loaded)
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
