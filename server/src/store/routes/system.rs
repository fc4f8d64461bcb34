//! `/api/info`, `/healthz`, `/readyz` and `/metrics`.
use std::sync::Arc;

use axum::{extract::State, response::Response, Json};
use serde_json::json;

use super::App;
use crate::store::{backend::Backend, error::StoreError};

pub async fn info<B: Backend>(State(app): State<Arc<App<B>>>) -> Json<sa_shared::model::StoreInfo> {
    Json(app.info.clone())
}

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the backend answers; a store whose Redis or PostgreSQL is away is taken out of
/// the load balancer until it is back.
pub async fn readyz<B: Backend>(
    State(app): State<Arc<App<B>>>,
) -> Result<Json<serde_json::Value>, StoreError> {
    app.backend.ready().await.map_err(|e| {
        StoreError::unavailable(format!(
            "the {} backend is not reachable: {e}",
            app.info.backend
        ))
    })?;
    Ok(Json(
        json!({"status": "ready", "backend": app.info.backend}),
    ))
}

pub async fn metrics<B: Backend>(State(app): State<Arc<App<B>>>) -> Response {
    app.metrics.render()
}
