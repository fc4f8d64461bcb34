//! Wire types to and from JSON text through the browser's own JSON parser and printer.
//!
//! serde maps the parsed value onto the wire types (serde-wasm-bindgen), so the apps carry no
//! JSON parser of their own: serde_json's was 6 % of the explorer's wasm
//! (docs/bench/explorer.md). The server keeps serde_json; the wire types are the same.
use serde::{de::DeserializeOwned, Serialize};

/// Parses `text` into `T`; the error says what did not fit.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_string())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// `value` as JSON text, with objects (not JS `Map`s) for maps and `null` for `None`.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    let js = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    js_sys::JSON::stringify(&js)
        .map(String::from)
        .map_err(|_| "not serialisable".to_string())
}
