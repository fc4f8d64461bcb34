//! Small browser helpers the components share.
use wasm_bindgen::{JsCast, JsValue};

/// Whether a key event happened in a text field, where `/` and arrows belong to the field.
pub fn typing_in_field(e: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || el.has_attribute("contenteditable")
}

/// Writes `text` to the clipboard. Fails where the page may not (no focus, no permission,
/// plain HTTP on a non-localhost origin); callers then show the text to copy by hand.
pub async fn copy_text(text: &str) -> Result<(), ()> {
    let nav = web_sys::window().ok_or(())?.navigator();
    let clipboard = js_sys::Reflect::get(&nav, &JsValue::from_str("clipboard")).map_err(|_| ())?;
    if clipboard.is_undefined() {
        return Err(());
    }
    let write =
        js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")).map_err(|_| ())?;
    let write: js_sys::Function = write.dyn_into().map_err(|_| ())?;
    let promise: js_sys::Promise = write
        .call1(&clipboard, &JsValue::from_str(text))
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|_| ())
}

/// An RFC 3339 time shortened for a list row: `2026-11-25 20:41`.
pub fn short_time(rfc3339: &str) -> String {
    let t = rfc3339.replace('T', " ");
    t.get(..16).unwrap_or(&t).to_string()
}
