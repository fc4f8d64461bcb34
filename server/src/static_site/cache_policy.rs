//! Which `Cache-Control` each file gets.
//!
//! Trunk puts a content hash in every asset name it emits (`sa-client-<16 hex>_bg.wasm`,
//! `app-<16 hex>.css`), and the split build (xtask/src/split.rs) puts the main module, its
//! glue, the chunk loader and every lazy chunk in a folder named after the hash of its
//! contents (`<16 hex>/split_explorer_….wasm`). Those paths never change meaning and can be
//! cached for a year. Everything else, above all `index.html`, which names the current hashes,
//! must be revalidated on every use so a deploy shows up at once.
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

/// True when the file name carries a Trunk content hash (`<name>-<hex>` with an optional
/// `_bg`, wasm-bindgen's suffix, before the first dot), or the file is inside a
/// content-addressed build folder.
pub fn is_hashed(key: &str) -> bool {
    in_hashed_folder(key) || has_hashed_name(key)
}

/// `<16 lowercase hex>/<file>`: the split build's folder, named by xtask after the SHA-256 of
/// everything in it (always 16 digits, zero-padded).
fn in_hashed_folder(key: &str) -> bool {
    let Some((folder, rest)) = key.split_once('/') else {
        return false;
    };
    folder.len() == 16
        && folder
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !rest.is_empty()
        && !rest.ends_with('/')
}

fn has_hashed_name(key: &str) -> bool {
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
    fn split_build_folders_are_hashed() {
        assert!(is_hashed("0f3a9c2b7d41e865/split_explorer_1234.wasm"));
        assert!(is_hashed("0f3a9c2b7d41e865/chunk_3.wasm"));
        assert!(is_hashed("0f3a9c2b7d41e865/__wasm_split.js"));
        assert!(is_hashed("0f3a9c2b7d41e865/sa-client_bg.wasm"));
        // Not the folder itself, not another depth, not upper case or another length.
        assert!(!is_hashed("0f3a9c2b7d41e865/"));
        assert!(!is_hashed("models/0f3a9c2b7d41e865/chunk_3.wasm"));
        assert!(!is_hashed("0F3A9C2B7D41E865/chunk_3.wasm"));
        assert!(!is_hashed("0f3a9c2b7d41e86/chunk_3.wasm"));
        assert!(!is_hashed("0f3a9c2b7d41e865"));
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
