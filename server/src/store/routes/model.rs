//! The model resource: `/api/model` and `/api/model/{id}`.
use std::{collections::HashMap, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    Extension, Json,
};
use base64::Engine;
use bytes::Bytes;
use headers::HeaderMapExt;
use http_body_util::BodyExt;
use sa_shared::{
    history::{Author, FEED_CURSOR_HEADER},
    model::{ModelCreated, ModelSummary, SummaryPage},
};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::App;
use crate::store::{
    backend::{etag_of, new_id, now_millis, Backend, Deleted, Expect, ListQuery, NewDoc, Written},
    error::StoreError,
    jwt::Principal,
    urls::BaseUrl,
};

pub(super) const DEFAULT_LIMIT: usize = 50;
pub(super) const MAX_LIMIT: usize = 1000;
const MAX_QUERY_CHARS: usize = 200;

pub(super) type Result<T> = std::result::Result<T, StoreError>;

pub(super) type RawId = std::result::Result<Path<String>, axum::extract::rejection::PathRejection>;

/// The `{id}` of the path as a UUID (any spelling), or 400.
pub(super) fn parse_id(raw: RawId) -> Result<(Uuid, String)> {
    let Path(raw) = raw.map_err(|_| StoreError::bad_id("(not valid UTF-8)"))?;
    let id = Uuid::parse_str(&raw).map_err(|_| StoreError::bad_id(&raw))?;
    Ok((id, raw))
}

pub(super) fn quoted(etag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{etag}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// The entity tags of an `If-Match` list: `None` for `*`. Weak tags are kept with their `W/` so
/// a strong comparison never matches them.
///
/// `headers::IfMatch` answers "does this tag pass" but does not give the tags out, and the
/// backends need them: Redis compares them inside its Lua script, PostgreSQL in its `UPDATE`,
/// so the check and the write are one atomic step. Each tag is still parsed by
/// `headers::ETag`, so a malformed one is refused like any other bad header.
fn etag_list(value: &str) -> Option<Vec<String>> {
    if value.trim() == "*" {
        return None;
    }
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                if t.starts_with("W/") {
                    t.to_string()
                } else {
                    t.trim_matches('"').to_string()
                }
            })
            .collect(),
    )
}

pub(super) fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<&str>> {
    match headers.get(&name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            StoreError::bad_request(
                "bad_header",
                format!("the {name} header is not readable text"),
            )
        }),
    }
}

/// What `If-Match` asks of a write (`Anything` without it).
pub(super) fn expectation(headers: &HeaderMap) -> Result<Expect> {
    Ok(match header_str(headers, header::IF_MATCH)? {
        None => Expect::Anything,
        Some(v) => {
            let well_formed = v.trim() == "*"
                || v.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .all(|t| t.parse::<headers::ETag>().is_ok());
            if !well_formed {
                return Err(StoreError::bad_request(
                    "bad_header",
                    "If-Match must be * or a list of quoted entity tags, like \"abc\"",
                ));
            }
            match etag_list(v) {
                None => Expect::Exists,
                Some(tags) => Expect::Etag(tags),
            }
        }
    })
}

/// Cursors are opaque to clients: the last id of a page, base64url-encoded.
fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(raw: &str) -> Result<Uuid> {
    let bad = || {
        StoreError::bad_request(
            "bad_cursor",
            "the cursor (after=) is not one this store issued; start again without it",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    Uuid::from_slice(&bytes).map_err(|_| bad())
}

/// Reads a JSON object body within the limit and prepares it for the backend.
/// `id` is the model's id, whose display name is the id when the document has no string `name`.
/// An oversized body is still read to its end, up to this many bytes and for this long, before
/// the 413 goes out. A client that is still sending when the server answers and closes would
/// otherwise see the connection reset (a "network error" in a browser) instead of the answer.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The body, if it is at most `limit` bytes (`declared`: its Content-Length, if sent).
async fn read_limited(mut body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes> {
    match declared {
        // Too large to be worth reading: answer now, and the connection closes with it.
        Some(len) if len > DRAIN_BYTES => return Err(StoreError::too_large(limit)),
        Some(len) if len > limit as u64 => {
            drain(body).await;
            return Err(StoreError::too_large(limit));
        }
        _ => {}
    }
    let mut kept: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            StoreError::bad_request(
                "bad_body",
                format!("the request body could not be read: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if kept.len() + data.len() > limit {
                drain(body).await;
                return Err(StoreError::too_large(limit));
            }
            kept.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(kept))
}

/// Reads and drops the rest of `body`, up to [`DRAIN_BYTES`] and for at most [`DRAIN_TIME`].
async fn drain(mut body: Body) {
    let rest = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > DRAIN_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, rest).await;
}

pub(super) async fn read_document(
    app: &App<impl Backend>,
    headers: &HeaderMap,
    body: Body,
    id: Uuid,
    by: Author,
) -> Result<NewDoc> {
    let content_type = header_str(headers, header::CONTENT_TYPE)?.unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json"
        && !(essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Err(StoreError::model_media_type());
    }
    let declared = header_str(headers, header::CONTENT_LENGTH)?.and_then(|v| v.parse::<u64>().ok());
    let body = read_limited(body, app.body_limit, declared).await?;
    let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        StoreError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    if !doc.is_object() {
        return Err(StoreError::bad_request(
            "not_an_object",
            "a model is a JSON object ({…}), not an array, string, number or null",
        ));
    }
    if has_nul(&doc) {
        // PostgreSQL's JSONB can't hold U+0000; refuse it everywhere so the backends agree.
        return Err(StoreError::bad_request(
            "nul_character",
            "the document contains the character U+0000, which the store does not keep",
        ));
    }
    Ok(new_doc(id, body, &doc, by))
}

/// A parsed document ready for the backend, written by `by`.
pub(super) fn new_doc(id: Uuid, body: Bytes, doc: &serde_json::Value, by: Author) -> NewDoc {
    NewDoc {
        etag: etag_of(&body),
        name: sa_shared::model::display_name(doc, &id.hyphenated().to_string()),
        body,
        updated: now_millis(),
        by,
        restored: false,
    }
}

fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

pub(super) fn created_response(
    status: StatusCode,
    base: &BaseUrl,
    id: Uuid,
    etag: &str,
) -> Response {
    let url = base.model(&id);
    let mut res = (
        status,
        Json(ModelCreated {
            id: id.hyphenated().to_string(),
            url: url.clone(),
        }),
    )
        .into_response();
    res.headers_mut().insert(header::ETAG, quoted(etag));
    if status == StatusCode::CREATED {
        if let Ok(v) = HeaderValue::from_str(&url) {
            res.headers_mut().insert(header::LOCATION, v);
        }
    }
    res
}

/// `GET /api/model`: the original array of absolute URLs, or with `view=summary` one page of
/// summaries.
pub async fn index<B: Backend>(
    State(app): State<Arc<App<B>>>,
    headers: HeaderMap,
    uri: Uri,
    query: std::result::Result<
        Query<HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response> {
    let Query(params) = query.map_err(|e| {
        StoreError::bad_request(
            "bad_query",
            format!("the query string is not readable: {e}"),
        )
    })?;
    let base = BaseUrl::from_request(&headers, &uri)?;
    match params.get("view").map(String::as_str) {
        None | Some("") | Some("urls") => url_array(app, base).await,
        Some("summary") => {
            let query = list_query(&params)?;
            // Read before the page, so every write the page may miss comes after it.
            let feed = match query.after {
                None => Some(app.backend.head().await?),
                Some(_) => None,
            };
            let page = app.backend.list(query).await?;
            let mut res = Json(summary_page(&base, page)).into_response();
            if let Some(cursor) = feed.and_then(|c| HeaderValue::from_str(&c.to_string()).ok()) {
                res.headers_mut().insert(FEED_CURSOR_HEADER, cursor);
            }
            Ok(res)
        }
        Some("deleted") => {
            let page = app.backend.deleted(list_query(&params)?).await?;
            Ok(Json(summary_page(&base, page)).into_response())
        }
        Some(other) => Err(StoreError::bad_request(
            "bad_view",
            format!("view={other:?} is unknown; use view=summary, view=deleted or leave it out"),
        )),
    }
}

/// Ids per backend round trip while the URL array streams (about 70 KB of answer).
const URL_PAGE: usize = 1000;

/// Where the walk of the URL array is.
enum Walk {
    First(Vec<Uuid>),
    After(Uuid),
    Done,
}

/// The original answer, `["url",…]`, streamed one page of ids at a time so the store's memory
/// stays flat however many models it has. The bytes are those of a serialized `Vec<String>`.
/// The first page is read before the status goes out, so a backend that is down still gets its
/// 503; a failure later can only cut the body short, which no JSON parser accepts.
async fn url_array<B: Backend>(app: Arc<App<B>>, base: BaseUrl) -> Result<Response> {
    let first = app.backend.ids_page(None, URL_PAGE).await?;
    let pages = futures_util::stream::unfold(Walk::First(first), move |walk| {
        let (app, base) = (app.clone(), base.clone());
        async move {
            let (ids, opening) = match walk {
                Walk::Done => return None,
                Walk::First(ids) => (ids, true),
                Walk::After(after) => match app.backend.ids_page(Some(after), URL_PAGE).await {
                    Ok(ids) => (ids, false),
                    Err(e) => return Some((Err(e), Walk::Done)),
                },
            };
            let mut chunk = Vec::with_capacity(ids.len() * 80 + 2);
            if opening {
                chunk.push(b'[');
            }
            for (i, id) in ids.iter().enumerate() {
                if !(opening && i == 0) {
                    chunk.push(b',');
                }
                // serde_json's own escaping, so the bytes match `Json(Vec<String>)` exactly.
                let _ = serde_json::to_writer(&mut chunk, &base.model(id));
            }
            let next = match ids.last() {
                Some(last) if ids.len() == URL_PAGE => Walk::After(*last),
                _ => {
                    chunk.push(b']');
                    Walk::Done
                }
            };
            Some((Ok(Bytes::from(chunk)), next))
        }
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from_stream(pages),
    )
        .into_response())
}

/// `limit`, `after` and `q` of a summary or deleted view.
fn list_query(params: &HashMap<String, String>) -> Result<ListQuery> {
    let limit = match params.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(StoreError::bad_request(
                    "bad_limit",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let after = match params.get("after").map(String::as_str) {
        None | Some("") => None,
        Some(raw) => Some(decode_cursor(raw)?),
    };
    let q = params.get("q").map(|q| q.trim()).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        return Err(StoreError::bad_request(
            "bad_query",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(ListQuery {
        after,
        limit,
        q: q.map(crate::store::backend::search_key),
    })
}

fn summary_page(base: &BaseUrl, page: crate::store::backend::Page) -> SummaryPage {
    let items = page
        .items
        .into_iter()
        .map(|m| ModelSummary {
            url: base.model(&m.id),
            id: m.id.hyphenated().to_string(),
            name: m.name,
            updated: m.updated.format(&Rfc3339).unwrap_or_default(),
            size: m.size,
            etag: m.etag,
        })
        .collect();
    SummaryPage {
        items,
        next: page.next.map(encode_cursor),
        total: page.total,
    }
}

/// `POST /api/model`: stores a new model under a new id.
pub async fn create<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(caller): Extension<Arc<Principal>>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response> {
    let base = BaseUrl::from_request(&headers, &uri)?;
    let id = new_id();
    let doc = read_document(&app, &headers, body, id, caller.author()).await?;
    let etag = doc.etag.clone();
    match app.backend.put(id, doc, Expect::Absent).await? {
        Written::Created | Written::Updated => {
            Ok(created_response(StatusCode::CREATED, &base, id, &etag))
        }
        // A fresh UUIDv7 colliding means the clock or the RNG is broken; let the client retry.
        Written::PreconditionFailed => Err(StoreError::new(
            StatusCode::CONFLICT,
            "id_conflict",
            "a model with the new id already exists; send the request again",
        )),
    }
}

/// `GET /api/model/{id}`: the document and its ETag, or 304 for a matching `If-None-Match`.
pub async fn show<B: Backend>(
    State(app): State<Arc<App<B>>>,
    raw: RawId,
    req: axum::extract::Request,
) -> Result<Response> {
    // The whole request rather than a `HeaderMap` extractor, which would copy every header.
    let headers = req.headers();
    let (id, raw) = parse_id(raw)?;
    let stored = app
        .backend
        .get(id)
        .await?
        .ok_or_else(|| StoreError::not_found(&raw))?;
    let etag = quoted(&stored.etag);
    if let Some(inm) = headers.typed_get::<headers::IfNoneMatch>() {
        // The headers crate compares weakly, as If-None-Match should: W/"x" matches "x".
        let current = etag
            .to_str()
            .ok()
            .and_then(|t| t.parse::<headers::ETag>().ok());
        if current.is_some_and(|c| !inm.precondition_passes(&c)) {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
        }
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            // Share links put a token in the URL: keep the document out of shared caches.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ],
        stored.body,
    )
        .into_response())
}

/// `PUT /api/model/{id}`: replaces the model (or creates it under that id); with `If-Match`,
/// only if it hasn't changed since.
pub async fn replace<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(caller): Extension<Arc<Principal>>,
    raw: RawId,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response> {
    let (id, _) = parse_id(raw)?;
    let base = BaseUrl::from_request(&headers, &uri)?;
    let expect = expectation(&headers)?;
    let doc = read_document(&app, &headers, body, id, caller.author()).await?;
    let etag = doc.etag.clone();
    match app.backend.put(id, doc, expect).await? {
        Written::Created => Ok(created_response(StatusCode::CREATED, &base, id, &etag)),
        Written::Updated => Ok(created_response(StatusCode::OK, &base, id, &etag)),
        Written::PreconditionFailed => Err(StoreError::precondition_failed()),
    }
}

/// `DELETE /api/model/{id}` (with an optional `If-Match`).
pub async fn destroy<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(caller): Extension<Arc<Principal>>,
    raw: RawId,
    headers: HeaderMap,
) -> Result<Response> {
    let (id, raw) = parse_id(raw)?;
    let expect = expectation(&headers)?;
    match app.backend.delete(id, expect, caller.author()).await? {
        Deleted::Deleted => Ok(StatusCode::NO_CONTENT.into_response()),
        Deleted::NotFound => Err(StoreError::not_found(&raw)),
        Deleted::PreconditionFailed => Err(StoreError::precondition_failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let id = new_id();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        assert!(decode_cursor("not a cursor").is_err());
        assert!(decode_cursor("AAAA").is_err());
    }

    #[test]
    fn etag_lists() {
        assert_eq!(etag_list("*"), None);
        assert_eq!(
            etag_list("\"a\", W/\"b\"").unwrap(),
            vec!["a".to_string(), "W/\"b\"".to_string()]
        );
    }
}
