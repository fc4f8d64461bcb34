//! Stand-in for `sa_shared::web::store_api` (the explorer's module) with the same signatures,
//! until that module lands on this branch; then this file becomes a re-export.
use gloo_net::http::Response;
use sa_shared::{
    config::StoreEntry,
    model::{ModelCreated, SummaryPage},
    web::{
        http::{send, ApiError, Method},
        session::Session,
    },
};

#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub doc: serde_json::Value,
    pub etag: String,
    pub size: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub url: String,
    pub etag: String,
}

pub fn model_url(store: &StoreEntry, id: &str) -> String {
    format!("{}/api/model/{}", store.url, encode(id))
}

pub async fn list(session: Session, store: &StoreEntry, after: Option<&str>, q: &str, limit: u32) -> Result<SummaryPage, ApiError> {
    let mut url = format!("{}/api/model?view=summary&limit={limit}", store.url);
    if let Some(a) = after {
        url.push_str("&after=");
        url.push_str(&encode(a));
    }
    if !q.trim().is_empty() {
        url.push_str("&q=");
        url.push_str(&encode(q.trim()));
    }
    sa_shared::web::http::json(send(session, Method::GET, &url, &[], None).await?).await
}

pub async fn get(session: Session, store: &StoreEntry, id: &str) -> Result<Fetched, ApiError> {
    let resp = send(session, Method::GET, &model_url(store, id), &[], None).await?;
    let etag = etag(&resp);
    let text = resp.text().await.map_err(|e| ApiError::bad_answer(e))?;
    let doc = serde_json::from_str(&text).map_err(|e| ApiError::bad_answer(e))?;
    Ok(Fetched { doc, etag, size: text.len() })
}

pub async fn create(session: Session, store: &StoreEntry, doc: &serde_json::Value) -> Result<Created, ApiError> {
    let resp = send(session, Method::POST, &format!("{}/api/model", store.url), &[("Content-Type", "application/json")], Some(doc.to_string())).await?;
    let etag = etag(&resp);
    let c: ModelCreated = sa_shared::web::http::json(resp).await?;
    Ok(Created { id: c.id, url: c.url, etag })
}

pub async fn put(session: Session, store: &StoreEntry, id: &str, doc: &serde_json::Value, if_match: &str) -> Result<String, ApiError> {
    let resp = send(session, Method::PUT, &model_url(store, id), &[("Content-Type", "application/json"), ("If-Match", if_match)], Some(doc.to_string())).await?;
    Ok(etag(&resp))
}

pub async fn delete(session: Session, store: &StoreEntry, id: &str) -> Result<(), ApiError> {
    send(session, Method::DELETE, &model_url(store, id), &[], None).await.map(|_| ())
}

fn etag(resp: &Response) -> String {
    resp.headers().get("etag").unwrap_or_default()
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
