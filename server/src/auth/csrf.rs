//! CSRF defence for the endpoints that act on the refresh cookie (login, token, logout).
//!
//! The cookie is SameSite=Strict already; this adds an explicit check so that a page on a
//! foreign origin can never make the browser use it. Browsers send `Origin` on every POST, so a
//! request without it is not a browser acting for a page: curl, scripts and tests may omit it.
//! If a browser sends `Sec-Fetch-Site: cross-site` but no `Origin`, it is refused too.
use http::HeaderMap;

use super::error::AuthError;

pub fn check_origin(
    headers: &HeaderMap,
    allowed: &[String],
    own_origin: &str,
) -> Result<(), AuthError> {
    match headers.get(http::header::ORIGIN) {
        Some(origin) => {
            let origin = origin.to_str().unwrap_or_default();
            if origin == own_origin || allowed.iter().any(|a| a == origin) {
                Ok(())
            } else {
                Err(AuthError::forbidden("forbidden_origin", format!("requests from origin {origin:?} may not use the sign-in cookie; use one of sa's apps")))
            }
        }
        None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            Some("cross-site") => Err(AuthError::forbidden(
                "forbidden_origin",
                "cross-site requests may not use the sign-in cookie",
            )),
            _ => Ok(()),
        },
    }
}

/// `scheme://host[:port]` of a URL, as browsers write it in `Origin`.
pub fn origin_of(url: &str) -> String {
    match url.parse::<http::Uri>() {
        Ok(u) => match (u.scheme_str(), u.authority()) {
            (Some(s), Some(a)) => format!("{s}://{a}"),
            _ => url.trim_end_matches('/').to_string(),
        },
        Err(_) => url.trim_end_matches('/').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    http::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn origins() {
        let allowed = vec!["http://client.sa.localhost:8080".to_string()];
        let own = "http://auth.sa.localhost:8080";
        assert!(check_origin(
            &headers(&[("origin", "http://client.sa.localhost:8080")]),
            &allowed,
            own
        )
        .is_ok());
        assert!(check_origin(&headers(&[("origin", own)]), &allowed, own).is_ok());
        assert!(
            check_origin(
                &headers(&[("origin", "http://client.sa.localhost:9090")]),
                &allowed,
                own
            )
            .is_err(),
            "the port is part of the origin"
        );
        assert!(check_origin(&headers(&[("origin", "null")]), &allowed, own).is_err());
        assert!(
            check_origin(&headers(&[]), &allowed, own).is_ok(),
            "non-browser clients send no Origin"
        );
        assert!(
            check_origin(&headers(&[("sec-fetch-site", "cross-site")]), &allowed, own).is_err()
        );
        assert_eq!(
            origin_of("https://auth.example.com/"),
            "https://auth.example.com"
        );
        assert_eq!(
            origin_of("http://auth.sa.localhost:8080/x"),
            "http://auth.sa.localhost:8080"
        );
    }
}
