//! `Authorization: Bearer <token>`, parsed in one place for every role (through the `headers`
//! crate, so the scheme is matched case-insensitively as RFC 7235 says).
use headers::{authorization::Bearer, Authorization, HeaderMapExt};
use http::{header, HeaderMap};

/// What a request's `Authorization` header says.
#[derive(Debug, PartialEq, Eq)]
pub enum BearerHeader {
    /// No `Authorization` header.
    Missing,
    /// A header that is not `Bearer <token>`.
    Malformed,
    Token(String),
}

pub fn bearer(headers: &HeaderMap) -> BearerHeader {
    if !headers.contains_key(header::AUTHORIZATION) {
        return BearerHeader::Missing;
    }
    match headers.typed_get::<Authorization<Bearer>>() {
        Some(Authorization(b)) if !b.token().trim().is_empty() => {
            BearerHeader::Token(b.token().trim().to_string())
        }
        _ => BearerHeader::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc"] {
            assert_eq!(bearer(&with(v)), BearerHeader::Token("abc".into()), "{v}");
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        for v in ["Basic dXNlcjpwdw==", "Bearer", "Bearer  ", "Token abc"] {
            assert_eq!(bearer(&with(v)), BearerHeader::Malformed, "{v}");
        }
        assert_eq!(bearer(&HeaderMap::new()), BearerHeader::Missing);
    }
}
