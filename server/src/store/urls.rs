//! Absolute URLs as the caller sees them, from the other side of the gateway.
//!
//! Scheme from `X-Forwarded-Proto`, host from `X-Forwarded-Host` or `Host`, and the path prefix
//! the gateway stripped from `X-Forwarded-Prefix` or `X-Envoy-Original-Path`. A default port
//! (`:80` for http, `:443` for https) is never written.
use axum::http::{header, HeaderMap, Uri};

use super::error::StoreError;

/// `scheme://host[:port][/prefix]` without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn from_request(headers: &HeaderMap, uri: &Uri) -> Result<BaseUrl, StoreError> {
        let first = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let scheme = match first("x-forwarded-proto").map(|s| s.to_ascii_lowercase()) {
            Some(s) if s == "http" || s == "https" => s,
            Some(other) => {
                return Err(StoreError::bad_request(
                    "bad_forwarded_proto",
                    format!("X-Forwarded-Proto {other:?} is neither http nor https"),
                ))
            }
            None => uri.scheme_str().unwrap_or("http").to_string(),
        };
        let host = first("x-forwarded-host")
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .or_else(|| uri.authority().map(|a| a.to_string()))
            .ok_or_else(|| {
                StoreError::bad_request("missing_host", "the request has no Host header")
            })?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        {
            return Err(StoreError::bad_request(
                "bad_host",
                format!("the Host {host:?} is not a valid host name"),
            ));
        }
        let host = host.to_ascii_lowercase();
        let host = sa_shared::config::without_default_port(&scheme, &host);
        let prefix = prefix(headers, uri.path())?;
        Ok(BaseUrl(format!("{scheme}://{host}{prefix}")))
    }

    /// The URL of one model.
    pub fn model(&self, id: &uuid::Uuid) -> String {
        format!("{}/api/model/{}", self.0, id.hyphenated())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn prefix(headers: &HeaderMap, path: &str) -> Result<String, StoreError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let raw = if let Some(p) = get("x-forwarded-prefix") {
        p.split(',').next().unwrap_or("").trim().to_string()
    } else if let Some(original) = get("x-envoy-original-path") {
        // Envoy keeps the path as the caller sent it; what it stripped is the part before ours.
        let original = original.split('?').next().unwrap_or("");
        original.strip_suffix(path).unwrap_or("").to_string()
    } else {
        String::new()
    };
    let p = raw.trim_end_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    if !p.starts_with('/')
        || !p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c))
    {
        return Err(StoreError::bad_request(
            "bad_forwarded_prefix",
            format!("the forwarded prefix {raw:?} is not a plain path"),
        ));
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(pairs: &[(&str, &str)], path: &str) -> Result<String, StoreError> {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        BaseUrl::from_request(&h, &path.parse().unwrap()).map(|b| b.0)
    }

    #[test]
    fn default_ports_are_dropped() {
        assert_eq!(
            base(
                &[("host", "store.sa.x:443"), ("x-forwarded-proto", "https")],
                "/api/model"
            )
            .unwrap(),
            "https://store.sa.x"
        );
        assert_eq!(
            base(&[("host", "store.sa.x:80")], "/api/model").unwrap(),
            "http://store.sa.x"
        );
        assert_eq!(
            base(&[("host", "store.sa.localhost:8080")], "/api/model").unwrap(),
            "http://store.sa.localhost:8080"
        );
        assert_eq!(
            base(
                &[("host", "store.sa.x:80"), ("x-forwarded-proto", "https")],
                "/"
            )
            .unwrap(),
            "https://store.sa.x:80"
        );
    }

    #[test]
    fn forwarded_host_and_prefix_win() {
        let b = base(
            &[
                ("host", "store-redis.sa.svc:8080"),
                ("x-forwarded-host", "store.sa.x"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-prefix", "/redis/"),
            ],
            "/api/model",
        )
        .unwrap();
        assert_eq!(b, "https://store.sa.x/redis");
    }

    #[test]
    fn envoy_original_path_gives_the_prefix() {
        let b = base(
            &[
                ("host", "store.sa.x"),
                ("x-envoy-original-path", "/sql/api/model/1?x=2"),
            ],
            "/api/model/1",
        )
        .unwrap();
        assert_eq!(b, "http://store.sa.x/sql");
        let b = base(
            &[
                ("host", "store.sa.x"),
                ("x-envoy-original-path", "/api/model"),
            ],
            "/api/model",
        )
        .unwrap();
        assert_eq!(b, "http://store.sa.x");
    }

    #[test]
    fn hostile_headers_are_rejected() {
        assert!(base(&[("host", "a b")], "/").is_err());
        assert!(base(&[("host", "x"), ("x-forwarded-proto", "javascript")], "/").is_err());
        assert!(base(&[("host", "x"), ("x-forwarded-prefix", "//evil\"")], "/").is_err());
    }
}
