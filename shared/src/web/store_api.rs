//! Typed calls to one store instance (`{store.url}/api/…`) and to auth's share endpoint, on top
//! of [`super::http::send`], which adds the bearer token and maps error bodies.

use crate::{
    auth::{ShareRequest, ShareResponse},
    config::StoreEntry,
    model::{ModelCreated, StoreInfo, SummaryPage},
};

use super::{
    doc::Doc,
    http::{json, send, ApiError, Method, Response},
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
    let resp = send(
        session,
        Method::GET,
        &format!("{}/api/info", store.url),
        &[],
        None,
    )
    .await?;
    json(resp).await
}

/// `GET /readyz`: whether the instance reaches its backend. Unauthenticated by design.
pub async fn ready(session: Session, store: &StoreEntry) -> Result<(), ApiError> {
    send(
        session,
        Method::GET,
        &format!("{}/readyz", store.url),
        &[],
        None,
    )
    .await
    .map(|_| ())
}

/// One page of `GET /api/model?view=summary`. `after` is the cursor from the previous page,
/// `q` the search text (empty for all).
pub async fn list(
    session: Session,
    store: &StoreEntry,
    after: Option<&str>,
    q: &str,
    limit: u32,
) -> Result<SummaryPage, ApiError> {
    let mut url = format!("{}/api/model?view=summary&limit={limit}", store.url);
    if let Some(a) = after {
        url.push_str("&after=");
        url.push_str(&encode(a));
    }
    let q = q.trim();
    if !q.is_empty() {
        url.push_str("&q=");
        url.push_str(&encode(q));
    }
    json(send(session, Method::GET, &url, &[], None).await?).await
}

/// `GET /api/model/{id}`.
pub async fn get(session: Session, store: &StoreEntry, id: &str) -> Result<Fetched, ApiError> {
    let resp = send(session, Method::GET, &model_url(store, id), &[], None).await?;
    let etag = etag(&resp);
    let text = resp.text().await.map_err(ApiError::bad_answer)?;
    let doc = Doc::parse(&text)
        .map_err(|e| ApiError::bad_answer(format!("the model is not JSON: {e}")))?;
    Ok(Fetched {
        doc,
        etag,
        size: text.len(),
    })
}

/// `POST /api/model`.
pub async fn create(session: Session, store: &StoreEntry, doc: &Doc) -> Result<Created, ApiError> {
    let resp = send(
        session,
        Method::POST,
        &format!("{}/api/model", store.url),
        &[("Content-Type", "application/json")],
        Some(doc.text().to_string()),
    )
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
    let resp = send(
        session,
        Method::PUT,
        &model_url(store, id),
        &[("Content-Type", "application/json"), ("If-Match", if_match)],
        Some(doc.text().to_string()),
    )
    .await?;
    Ok(etag(&resp))
}

/// `DELETE /api/model/{id}`.
pub async fn delete(session: Session, store: &StoreEntry, id: &str) -> Result<(), ApiError> {
    send(session, Method::DELETE, &model_url(store, id), &[], None)
        .await
        .map(|_| ())
}

/// `POST {auth_url}/api/share`: a read-only link to one model that works without signing in.
pub async fn share(session: Session, model_url: &str) -> Result<ShareResponse, ApiError> {
    let url = format!("{}/api/share", session.config().auth_url);
    let body = super::json::to_json(&ShareRequest {
        url: model_url.to_string(),
    })
    .unwrap_or_default();
    json(
        send(
            session,
            Method::POST,
            &url,
            &[("Content-Type", "application/json")],
            Some(body),
        )
        .await?,
    )
    .await
}

fn etag(resp: &Response) -> String {
    resp.header("etag").unwrap_or_default()
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
