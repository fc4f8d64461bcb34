//! The SPA fallback: which unknown paths get `index.html` so the app's router can take them.
//!
//! Only navigations do. A missing script, stylesheet or wasm module must fail loudly as a 404:
//! answering HTML there gives a MIME error far from the cause (or a stale app after a deploy).
use axum::http::{header, HeaderMap};

/// Extensions that are always subresources, whatever the `Accept` header says.
const SUBRESOURCES: &[&str] = &[
    "js", "mjs", "wasm", "css", "map", "json", "ico", "png", "svg", "woff", "woff2",
];

/// True when a miss on `key` should be answered with `index.html`.
pub fn is_navigation(key: &str, headers: &HeaderMap) -> bool {
    let last = key.rsplit('/').next().unwrap_or(key);
    let Some((_, ext)) = last.rsplit_once('.') else {
        return true;
    };
    if SUBRESOURCES.iter().any(|s| ext.eq_ignore_ascii_case(s)) {
        return false;
    }
    accepts_html(headers)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            media.eq_ignore_ascii_case("text/html") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn rule() {
        let none = HeaderMap::new();
        assert!(is_navigation("models/42", &none));
        assert!(is_navigation("", &none));
        assert!(!is_navigation("v1.2", &none));
        assert!(is_navigation(
            "v1.2",
            &accept("text/html,application/xhtml+xml")
        ));
        assert!(!is_navigation("v1.2", &accept("text/html;q=0")));
        assert!(!is_navigation(
            "app-0123456789abcdef.js",
            &accept("text/html")
        ));
        assert!(!is_navigation("x_bg.wasm", &accept("*/*")));
    }
}
