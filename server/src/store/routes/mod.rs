//! The store's HTTP surface: which path goes to which handler, and the layers around them.
use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderName, HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{backend::Backend, error::StoreError, jwt, metrics::Metrics};

pub mod changes;
pub mod model;
pub mod system;
pub mod versions;

/// Everything a handler needs, for one store instance.
pub struct App<B> {
    pub backend: Arc<B>,
    pub info: sa_shared::model::StoreInfo,
    /// `None` when `--auth off`.
    pub verifier: Option<jwt::Verifier>,
    pub body_limit: usize,
    pub metrics: Arc<Metrics>,
    pub feed: Arc<super::feed::Feed>,
}

pub fn router<B: Backend>(app: Arc<App<B>>, allowed_origins: &[String]) -> Router {
    let metrics = app.metrics.clone();
    let api = Router::new()
        .route(
            "/api/model",
            get(model::index::<B>).post(model::create::<B>),
        )
        .route(
            "/api/model/{id}",
            get(model::show::<B>)
                .put(model::replace::<B>)
                .delete(model::destroy::<B>),
        )
        .route("/api/model/{id}/versions", get(versions::index::<B>))
        .route("/api/model/{id}/versions/{etag}", get(versions::show::<B>))
        .route(
            "/api/model/{id}/versions/{etag}/restore",
            post(versions::restore::<B>),
        )
        .route("/api/changes", get(changes::stream::<B>))
        .route("/api/info", get(system::info::<B>))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            authenticate::<B>,
        ));
    Router::new()
        .merge(api)
        .route("/healthz", get(system::healthz))
        .route("/readyz", get(system::readyz::<B>))
        .route("/metrics", get(system::metrics::<B>))
        .fallback(|| async { StoreError::route_not_found() })
        .method_not_allowed_fallback(|| async { StoreError::model_method_not_allowed() })
        .with_state(app)
        .layer(middleware::from_fn_with_state(
            metrics,
            super::metrics::track,
        ))
        .layer(cors(allowed_origins))
}

/// Preflights are answered here, before authentication, for the configured app origins only.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter(|o| !o.is_empty())
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            HeaderName::from_static("retry-after"),
            HeaderName::from_static(sa_shared::history::FEED_CURSOR_HEADER),
        ])
        .max_age(std::time::Duration::from_secs(600))
        // The store sets no cookies, but an app whose fetch says `credentials: "include"` must
        // not be blocked; the origins are an explicit list, never `*`.
        .allow_credentials(true)
}

/// The bearer token from `Authorization`, or from `?access_token=` (share links, GET only).
fn token_of(req: &Request) -> Option<String> {
    match crate::bearer::bearer(req.headers()) {
        crate::bearer::BearerHeader::Token(t) => return Some(t),
        crate::bearer::BearerHeader::Malformed => return None,
        crate::bearer::BearerHeader::Missing => {}
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let query = req.uri().query()?;
    form_urlencoded_value(query, "access_token").map(str::to_string)
}

fn form_urlencoded_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

async fn authenticate<B: Backend>(
    State(app): State<Arc<App<B>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let principal = match &app.verifier {
        None => Arc::new(jwt::Principal::anonymous_writer()),
        Some(verifier) => {
            let Some(token) = token_of(&req) else {
                app.metrics.tokens.with_label_values(&["missing"]).inc();
                return StoreError::unauthorized(
                    "missing_token",
                    "sign in: every /api request needs Authorization: Bearer <token>",
                )
                .into_response();
            };
            match verifier.verify(&token).await {
                Ok((p, cached)) => {
                    let outcome = if cached { "valid_cached" } else { "valid" };
                    app.metrics.tokens.with_label_values(&[outcome]).inc();
                    p
                }
                Err(e) => {
                    app.metrics.tokens.with_label_values(&[e.code]).inc();
                    return e.into_response();
                }
            }
        }
    };
    let path = req.uri().path();
    let model_id = if path == "/api/changes" {
        // A share token reads the feed too, filtered to its own model.
        principal
            .model
            .as_deref()
            .and_then(|m| uuid::Uuid::parse_str(m).ok())
    } else {
        path.strip_prefix("/api/model/")
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
    };
    if let Err(e) = jwt::authorize(&principal, req.method(), model_id) {
        return e.into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}
