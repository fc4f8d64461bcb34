//! Typed calls to one store instance (`{store.url}/api/…`) and to auth's share endpoint, through
//! [`Session::send`], which adds the bearer token and refreshes it on a 401.
use gloo_net::http::{Method, Response};

use crate::{
    auth::{ShareRequest, ShareResponse},
    config::StoreEntry,
    history::{VersionPage, FEED_CURSOR_HEADER},
    model::{ModelCreated, StoreInfo, SummaryPage},
};

use super::{
    doc::Doc,
    encode,
    http::{json, text, ApiError},
    session::Session,
};

/// A model document as the store sent it, with the ETag that `put` must quote back.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub doc: Doc,
    pub etag: String,
    /// Size of the body in bytes, as received.
    pub size: usize,
}

/// The result of `POST /api/model`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub url: String,
    pub etag: String,
}

/// The absolute URL of one model in one store.
pub fn model_url(store: &StoreEntry, id: &str) -> String {
    format!("{}/api/model/{}", store.url, encode(id))
}

/// `GET /api/info`.
pub async fn info(session: Session, store: &StoreEntry) -> Result<StoreInfo, ApiError> {
    let url = format!("{}/api/info", store.url);
    json(session.send(Method::GET, &url, &|b| b.build()).await?).await
}

/// `GET /readyz`: whether the instance reaches its backend. Unauthenticated by design.
pub async fn ready(session: Session, store: &StoreEntry) -> Result<(), ApiError> {
    let url = format!("{}/readyz", store.url);
    session
        .send(Method::GET, &url, &|b| b.build())
        .await
        .map(|_| ())
}

/// A page of a summary list, as [`list`] read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub page: SummaryPage,
    /// On the first page: the change feed's cursor from just before the page was read
    /// ([`FEED_CURSOR_HEADER`]). Open the feed `after` it, and no write since the list is lost.
    pub feed: Option<String>,
}

/// One page of `GET /api/model?view=summary`. `after` is the cursor from the previous page,
/// `q` the search text (empty for all).
pub async fn list(
    session: Session,
    store: &StoreEntry,
    after: Option<&str>,
    q: &str,
    limit: u32,
) -> Result<Listed, ApiError> {
    let url = format!("{}/api/model", store.url);
    let limit = limit.to_string();
    let q = q.trim();
    let resp = session
        .send(Method::GET, &url, &|b| {
            let mut params = vec![("view", "summary"), ("limit", limit.as_str())];
            if let Some(a) = after {
                params.push(("after", a));
            }
            if !q.is_empty() {
                params.push(("q", q));
            }
            b.query(params).build()
        })
        .await?;
    let feed = resp.headers().get(FEED_CURSOR_HEADER);
    Ok(Listed {
        page: json(resp).await?,
        feed,
    })
}

/// `GET /api/model/{id}`.
pub async fn get(session: Session, store: &StoreEntry, id: &str) -> Result<Fetched, ApiError> {
    fetched(session, &model_url(store, id)).await
}

/// `GET /api/model/{id}/versions/{etag}`: one kept version's document. `etag` may be quoted.
pub async fn version(
    session: Session,
    store: &StoreEntry,
    id: &str,
    etag: &str,
) -> Result<Fetched, ApiError> {
    fetched(session, &version_url(store, id, etag)).await
}

/// One page of `GET /api/model/{id}/versions`, newest first.
pub async fn versions(
    session: Session,
    store: &StoreEntry,
    id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<VersionPage, ApiError> {
    let url = format!("{}/versions", model_url(store, id));
    let limit = limit.to_string();
    let resp = session
        .send(Method::GET, &url, &|b| {
            let mut params = vec![("limit", limit.as_str())];
            if let Some(a) = after {
                params.push(("after", a));
            }
            b.query(params).build()
        })
        .await?;
    json(resp).await
}

/// `POST /api/model/{id}/versions/{etag}/restore`: writes that version as the new current one
/// (and brings a deleted model back). With `if_match`, only while the model is at that ETag
/// (412 otherwise). Returns the new ETag.
pub async fn restore(
    session: Session,
    store: &StoreEntry,
    id: &str,
    etag: &str,
    if_match: Option<&str>,
) -> Result<String, ApiError> {
    let url = format!("{}/restore", version_url(store, id, etag));
    let resp = session
        .send(Method::POST, &url, &|b| match if_match {
            Some(tag) => b.header("If-Match", tag).build(),
            None => b.build(),
        })
        .await?;
    Ok(self::etag(&resp))
}

/// One page of `GET /api/model?view=deleted`: deleted models that can still be restored, in the
/// summary shape (`updated` is the time of the delete, `etag` what a restore brings back).
pub async fn deleted(
    session: Session,
    store: &StoreEntry,
    after: Option<&str>,
    limit: u32,
) -> Result<SummaryPage, ApiError> {
    let url = format!("{}/api/model", store.url);
    let limit = limit.to_string();
    let resp = session
        .send(Method::GET, &url, &|b| {
            let mut params = vec![("view", "deleted"), ("limit", limit.as_str())];
            if let Some(a) = after {
                params.push(("after", a));
            }
            b.query(params).build()
        })
        .await?;
    json(resp).await
}

fn version_url(store: &StoreEntry, id: &str, etag: &str) -> String {
    format!(
        "{}/versions/{}",
        model_url(store, id),
        encode(etag.trim_matches('"'))
    )
}

async fn fetched(session: Session, url: &str) -> Result<Fetched, ApiError> {
    let resp = session.send(Method::GET, url, &|b| b.build()).await?;
    let etag = etag(&resp);
    let text = text(resp).await?;
    let doc = Doc::parse(&text)
        .map_err(|e| ApiError::bad_answer(format!("the model is not JSON: {e}")))?;
    Ok(Fetched {
        doc,
        etag,
        size: text.len(),
    })
}

/// `POST /api/model`. The document goes as the text the user wrote (or the store sent), byte for
/// byte, not re-serialised.
pub async fn create(session: Session, store: &StoreEntry, doc: &Doc) -> Result<Created, ApiError> {
    let url = format!("{}/api/model", store.url);
    let resp = session
        .send(Method::POST, &url, &|b| {
            b.header("Content-Type", "application/json")
                .body(doc.text().to_string())
        })
        .await?;
    let etag = etag(&resp);
    let c: ModelCreated = json(resp).await?;
    Ok(Created {
        id: c.id,
        url: c.url,
        etag,
    })
}

/// `PUT /api/model/{id}` with `If-Match`; returns the new ETag. A stale ETag gives status 412.
pub async fn put(
    session: Session,
    store: &StoreEntry,
    id: &str,
    doc: &Doc,
    if_match: &str,
) -> Result<String, ApiError> {
    let resp = session
        .send(Method::PUT, &model_url(store, id), &|b| {
            b.header("Content-Type", "application/json")
                .header("If-Match", if_match)
                .body(doc.text().to_string())
        })
        .await?;
    Ok(etag(&resp))
}

/// `DELETE /api/model/{id}`.
pub async fn delete(session: Session, store: &StoreEntry, id: &str) -> Result<(), ApiError> {
    session
        .send(Method::DELETE, &model_url(store, id), &|b| b.build())
        .await
        .map(|_| ())
}

/// `POST {auth_url}/api/share`: a read-only link to one model that works without signing in.
pub async fn share(session: Session, model_url: &str) -> Result<ShareResponse, ApiError> {
    let url = format!("{}/api/share", session.config().auth_url);
    let request = ShareRequest {
        url: model_url.to_string(),
    };
    json(
        session
            .send(Method::POST, &url, &|b| b.json(&request))
            .await?,
    )
    .await
}

fn etag(resp: &Response) -> String {
    resp.headers().get("etag").unwrap_or_default()
}
