//! The auth HTTP API: one file per resource.
use std::time::Duration;

use axum::{
    extract::{DefaultBodyLimit, State},
    response::IntoResponse,
    routing::{get, post, put},
    Json, Router,
};
use http::{header, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{error::AuthError, wellknown, AppState};

pub mod account;
pub mod extract;
pub mod session;
pub mod share;
pub mod users;

/// Credentials and role lists are small; anything bigger is not a real client.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config.allowed_origins);
    Router::new()
        .route("/api/register", post(account::register))
        .route("/api/login", post(session::login))
        .route("/api/token", post(session::token))
        .route("/api/logout", post(session::logout))
        .route("/api/me", get(account::me))
        .route("/api/users", get(users::list))
        .route("/api/users/{id}/roles", put(users::set_roles))
        .route("/api/users/{id}", axum::routing::delete(users::delete))
        .route("/api/share", post(share::share))
        .route(
            "/.well-known/openid-configuration",
            get(wellknown::openid_configuration),
        )
        .route("/.well-known/jwks.json", get(wellknown::jwks))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(|| async {
            AuthError::no_such_route("/api/…, /.well-known/…, /healthz and /readyz")
        })
        .method_not_allowed_fallback(|| async {
            AuthError::method_not_allowed("see the auth endpoints in docs/architecture.md")
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Only the app origins, with credentials: the refresh cookie must never reach another site.
fn cors(origins: &[String]) -> CorsLayer {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        // The apps tell the user how long to wait after a 429.
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AuthError> {
    state.storage.ping().await?;
    Ok(Json(
        serde_json::json!({"status": "ready", "kid": state.keys.active_kid()}),
    ))
}
