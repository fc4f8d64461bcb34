//! Answers a request for one in-memory file: encoding, conditional requests, ranges, HEAD.
//!
//! Why not tower-http 0.7's `ServeDir` with an in-memory `Backend`: it reads every body through
//! `AsyncRead` into fresh chunks, where a `Bytes` clone costs nothing, and its ETag is mtime+size,
//! not a content hash that stays the same across replicas and restarts. The header semantics still
//! come from libraries: `headers` for If-Match / If-None-Match / If-Range, `http-range-header`
//! for `Range`.
use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::Response,
};
use headers::{HeaderMapExt, IfMatch, IfNoneMatch, IfRange};

use super::{assets::Asset, encoding};

const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");
const BYTES: HeaderValue = HeaderValue::from_static("bytes");

/// The response for `asset`, given the request's method and headers.
pub fn file(asset: &Asset, method: &Method, req: &HeaderMap) -> Response {
    let encoding = encoding::negotiate(
        req.get(header::ACCEPT_ENCODING),
        asset.br.is_some(),
        asset.gzip.is_some(),
    );
    let rep = asset.representation(encoding);

    let mut res = Response::new(Body::empty());
    // Room for these headers, the security headers and the access log's view, without regrowing.
    *res.headers_mut() = HeaderMap::with_capacity(16);
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, asset.cache_control.clone());
    h.insert(header::ETAG, rep.etag_header.clone());
    h.insert(header::VARY, ACCEPT_ENCODING);

    // RFC 9110 §13.2.2 order: If-Match, then If-None-Match, then Range.
    if let Some(if_match) = req.typed_get::<IfMatch>() {
        if !if_match.precondition_passes(&rep.etag) {
            *res.status_mut() = StatusCode::PRECONDITION_FAILED;
            return res;
        }
    }
    if let Some(if_none_match) = req.typed_get::<IfNoneMatch>() {
        if !if_none_match.precondition_passes(&rep.etag) {
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            return res;
        }
    }

    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, asset.content_type.clone());
    h.insert(header::ACCEPT_RANGES, BYTES);
    if let Some(ce) = encoding.header_value() {
        h.insert(header::CONTENT_ENCODING, ce);
    }

    let len = rep.bytes.len() as u64;
    match requested_range(req, rep, len) {
        Range::Full => {
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, rep.content_length.clone());
            if method != Method::HEAD {
                *res.body_mut() = Body::from(rep.bytes.clone());
            }
        }
        Range::Part(start, end) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
                    .expect("digits are a valid header value"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start + 1));
            if method != Method::HEAD {
                *res.body_mut() = Body::from(rep.bytes.slice(start as usize..=end as usize));
            }
        }
        Range::Unsatisfiable => {
            *res.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}"))
                    .expect("digits are a valid header value"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        }
    }
    res
}

enum Range {
    Full,
    Part(u64, u64),
    Unsatisfiable,
}

/// The part of the representation to send. A malformed `Range`, a stale `If-Range` or several
/// ranges get the whole file, as RFC 9110 §14.2 allows; a range past the end gets 416.
fn requested_range(req: &HeaderMap, rep: &super::assets::Representation, len: u64) -> Range {
    let Some(range) = req.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Range::Full;
    };
    if let Some(if_range) = req.typed_get::<IfRange>() {
        if if_range.is_modified(Some(&rep.etag), None) {
            return Range::Full;
        }
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Range::Full;
    };
    if len == 0 {
        return Range::Unsatisfiable;
    }
    match parsed.validate(len) {
        Ok(ranges) if ranges.len() == 1 => Range::Part(*ranges[0].start(), *ranges[0].end()),
        Ok(_) => Range::Full,
        Err(_) => Range::Unsatisfiable,
    }
}
