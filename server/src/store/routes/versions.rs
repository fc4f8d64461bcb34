//! A model's history: `/api/model/{id}/versions`, one version, and its restore.
use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    Extension, Json,
};
use sa_shared::history::{Version, VersionPage};
use uuid::Uuid;

use super::{
    model::{created_response, expectation, new_doc, quoted, Result, DEFAULT_LIMIT, MAX_LIMIT},
    App,
};
use crate::store::{
    backend::{history::rfc3339, Backend, Cursor, Written},
    error::StoreError,
    jwt::Principal,
    urls::BaseUrl,
};

type Params =
    std::result::Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

fn params(query: Params) -> Result<HashMap<String, String>> {
    query.map(|Query(p)| p).map_err(|e| {
        StoreError::bad_request(
            "bad_query",
            format!("the query string is not readable: {e}"),
        )
    })
}

fn model_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| StoreError::bad_id(raw))
}

/// An ETag from the path, with or without its quotes.
fn path_etag(raw: &str) -> &str {
    raw.trim_matches('"')
}

fn no_version(id: &str, etag: &str) -> StoreError {
    StoreError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "model {id} keeps no version {etag:?}; list them with GET /api/model/{id}/versions"
        ),
    )
}

/// `GET /api/model/{id}/versions?limit=N&after=CURSOR`: the kept versions, newest first.
pub async fn index<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Path(raw): Path<String>,
    query: Params,
) -> Result<Response> {
    let id = model_id(&raw)?;
    let params = params(query)?;
    let limit = match params.get("limit").map(String::as_str) {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                StoreError::bad_request(
                    "bad_limit",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let after = match params.get("after").map(String::as_str) {
        None | Some("") => None,
        Some(c) => Some(
            Cursor::parse(c)
                .filter(|c| app.backend.cursor_ok(c))
                .ok_or_else(bad_cursor)?,
        ),
    };
    let versions = app.backend.versions(id).await?;
    if versions.is_empty() && app.backend.get(id).await?.is_none() {
        return Err(StoreError::not_found(&raw));
    }
    let mut items: Vec<_> = versions
        .into_iter()
        .filter(|v| after.is_none_or(|a| v.cursor < a))
        .take(limit + 1)
        .collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|v| v.cursor.to_string())
    } else {
        None
    };
    Ok(Json(VersionPage {
        items: items
            .into_iter()
            .map(|v| Version {
                etag: v.etag,
                updated: rfc3339(v.updated),
                by: v.by,
                size: v.size,
                op: v.op,
            })
            .collect(),
        next,
    })
    .into_response())
}

pub fn bad_cursor() -> StoreError {
    StoreError::bad_request(
        "bad_cursor",
        "the cursor is not one this store issued; start again without it",
    )
}

/// `GET /api/model/{id}/versions/{etag}`: that version's document.
pub async fn show<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Path((raw, etag)): Path<(String, String)>,
) -> Result<Response> {
    let id = model_id(&raw)?;
    let etag = path_etag(&etag);
    let body = app
        .backend
        .version_body(id, etag)
        .await?
        .ok_or_else(|| no_version(&raw, etag))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, quoted(etag)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/model/{id}/versions/{etag}/restore`: makes that version the current one (also
/// for a deleted model), as a new version. With `If-Match`, only if the model is still at it.
pub async fn restore<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(caller): Extension<Arc<Principal>>,
    Path((raw, etag)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response> {
    let id = model_id(&raw)?;
    let base = BaseUrl::from_request(&headers, &uri)?;
    let expect = expectation(&headers)?;
    let etag = path_etag(&etag);
    let body = app
        .backend
        .version_body(id, etag)
        .await?
        .ok_or_else(|| no_version(&raw, etag))?;
    let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        StoreError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "damaged_version",
            format!("the kept version is not readable JSON ({e})"),
        )
    })?;
    let mut new = new_doc(id, body, &doc, caller.author());
    new.restored = true;
    let new_etag = new.etag.clone();
    match app.backend.put(id, new, expect).await? {
        Written::Created | Written::Updated => {
            Ok(created_response(StatusCode::OK, &base, id, &new_etag))
        }
        Written::PreconditionFailed => Err(StoreError::precondition_failed()),
    }
}
