//! Headers on every response: a CSP that lets the app's bootstrap run and nothing else,
//! `nosniff`, a referrer policy and no framing.
//!
//! `index.html` starts the app with an inline `<script type="module">` (written by Trunk, or by
//! `cargo xtask build` for the split build) and carries the inline reload-banner script. Rather
//! than `'unsafe-inline'`, the CSP lists the SHA-256 of each inline script of the `index.html`
//! that was loaded, so a rebuilt app is covered by a restart and injected markup is not. The
//! lazy chunks are fetched and compiled by the loader script from `'self'`, which
//! `'wasm-unsafe-eval'` allows; nothing about them loosens the policy.
use axum::http::{header, HeaderName, HeaderValue};
use base64::Engine;
use sa_shared::config::RuntimeConfig;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The header layers, stacked into one so the router boxes (and clones per request) one
/// service instead of one per header; each sets its header on every response.
pub fn layer(csp: HeaderValue) -> (SetHeader, SetHeader, SetHeader, SetHeader, SetHeader) {
    (
        SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp),
        SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        // For browsers without CSP frame-ancestors.
        SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    )
}

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

/// The CSP for an app whose `index.html` is `index_html`, talking to the hosts in `config`.
pub fn content_security_policy(index_html: &str, config: &RuntimeConfig) -> String {
    let scripts: String = inline_elements(index_html, "script")
        .iter()
        .map(|s| format!(" '{}'", sha256_source(s)))
        .collect();
    let styles: String = inline_elements(index_html, "style")
        .iter()
        .map(|s| format!(" '{}'", sha256_source(s)))
        .collect();
    let mut connect = vec!["'self'".to_owned()];
    for url in std::iter::once(&config.auth_url).chain(config.stores.iter().map(|s| &s.url)) {
        if let Some(origin) = origin_of(url) {
            if !connect.contains(&origin) {
                connect.push(origin);
            }
        }
    }
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' 'wasm-unsafe-eval'{scripts}"),
        format!("style-src 'self'{styles}"),
        // Leptos views may set `style="…"` attributes; that can't run script, `<style>` stays locked.
        "style-src-attr 'unsafe-inline'".to_owned(),
        "img-src 'self' data:".to_owned(),
        "font-src 'self'".to_owned(),
        format!("connect-src {}", connect.join(" ")),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// `'sha256-…'` source for a script or style text, as browsers hash it.
fn sha256_source(text: &str) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The text of each `<tag>` element without a `src` attribute, with line breaks normalised as
/// an HTML parser does before the browser hashes it.
///
/// `script` and `style` hold raw text that ends at the first `</tag`, so finding that is exact
/// for what Trunk writes; no general HTML parser is needed.
pub fn inline_elements(html: &str, tag: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| at + i) {
        let after_name = start + open.len();
        // `<scripts>` or `<script-x>` are other elements.
        if !lower[after_name..]
            .starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
        {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>').map(|i| after_name + i) else {
            break;
        };
        let attrs = &lower[after_name..tag_end];
        let Some(body_end) = lower[tag_end + 1..].find(&close).map(|i| tag_end + 1 + i) else {
            break;
        };
        if !has_attr(attrs, "src") {
            out.push(
                html[tag_end + 1..body_end]
                    .replace("\r\n", "\n")
                    .replace('\r', "\n"),
            );
        }
        at = body_end + close.len();
    }
    out
}

fn has_attr(attrs: &str, name: &str) -> bool {
    attrs.split(|c: char| c.is_ascii_whitespace()).any(|a| {
        a == name
            || a.strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with('='))
    })
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.parse().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_inline_scripts() {
        let html = "<head><script src=\"/a.js\"></script><SCRIPT type=\"module\">\r\nimport x from '/b.js';\r\n</SCRIPT>\
                    <script data-src=x>one()</script><scripts>no</scripts><style>p{}</style></head>";
        assert_eq!(
            inline_elements(html, "script"),
            vec!["\nimport x from '/b.js';\n".to_owned(), "one()".to_owned()]
        );
        assert_eq!(inline_elements(html, "style"), vec!["p{}".to_owned()]);
    }

    #[test]
    fn known_hash() {
        // `echo -n "alert('Hello, world.');" | openssl sha256 -binary | base64`, the CSP spec's example.
        assert_eq!(
            sha256_source("alert('Hello, world.');"),
            "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng="
        );
    }

    #[test]
    fn connect_src_lists_auth_and_store_origins() {
        let c = RuntimeConfig::for_domain("https", "sa.example.com", None);
        let csp = content_security_policy("<script>x</script>", &c);
        assert!(
            csp.contains(
                "connect-src 'self' https://auth.sa.example.com https://store.sa.example.com;"
            ),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline'; script") && !csp.contains("'unsafe-eval'"));
    }
}
