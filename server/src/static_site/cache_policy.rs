//! Which `Cache-Control` each file gets.
//!
//! Trunk puts a content hash in every asset name it emits (`sa-client-<16 hex>_bg.wasm`,
//! `app-<16 hex>.css`), so those names never change meaning and can be cached for a year.
//! Everything else, above all `index.html`, which names the current hashes, must be revalidated
//! on every use so a deploy shows up at once.
use axum::http::HeaderValue;

pub const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
pub const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The policy for the file at `key` (a root-relative path such as `app-0123456789abcdef.css`).
pub fn for_path(key: &str) -> HeaderValue {
    if is_hashed(key) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// True when the file name carries a Trunk content hash: `<name>-<hex>` with an optional
/// `_bg` (wasm-bindgen's suffix) before the first dot.
pub fn is_hashed(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    // Trunk writes a 64-bit hash as hex without padding: 16 digits, rarely fewer.
    (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_names_are_hashed() {
        assert!(is_hashed("sa-client-905e0077a27c1ab6_bg.wasm"));
        assert!(is_hashed("sa-client-905e0077a27c1ab6.js"));
        assert!(is_hashed("app-fe65950190f03c21.css"));
        // Trunk does not pad the hash: 15 digits happen.
        assert!(is_hashed("sa-explorer-6156252f8b773ff_bg.wasm"));
        assert!(is_hashed("snippets/x/inline0-fe65950190f03c21.js"));
    }

    #[test]
    fn plain_names_are_not() {
        for k in [
            "index.html",
            "favicon.ico",
            "sa-client.js",
            "app-v2.css",
            "my-app-cafe.js",
            "config.json",
            "notes-0123456789abcdefg.txt",
        ] {
            assert!(!is_hashed(k), "{k}");
        }
    }
}
