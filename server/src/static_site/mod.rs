//! `sa-server static`: serves one browser app (a `cargo xtask build` dist) and its `/config.json`.
//!
//! One module per concern: [`assets`] (loading into memory), [`encoding`] (precompressed
//! siblings), [`cache_policy`], [`fallback`] (SPA navigations), [`request_path`] (traversal),
//! [`respond`] (conditional and range requests), [`security_headers`] and [`config_json`].
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sa_shared::config::RuntimeConfig;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod assets;
pub mod cache_policy;
pub mod config_json;
pub mod encoding;
pub mod error;
pub mod fallback;
pub mod request_path;
pub mod respond;
pub mod security_headers;

pub use config_json::ConfigArgs;

use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum App {
    Client,
    Explorer,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Which app this instance serves.
    #[arg(long, value_enum, env = "SA_APP")]
    pub app: App,
    /// The app build to serve (`dist/client` or `dist/explorer`, from `cargo xtask build`).
    #[arg(long, env = "SA_DIR")]
    pub dir: PathBuf,
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// One app's files and config.
pub struct Site {
    pub dir: PathBuf,
    pub config: RuntimeConfig,
}

/// The static role's router for `site`. Reads every file of `site.dir` now; fails when the
/// directory has no `index.html`.
pub fn router(site: Site) -> anyhow::Result<Router> {
    let assets = assets::Assets::load(&site.dir)?;
    let index_html = String::from_utf8_lossy(&assets.index().identity.bytes).into_owned();
    let csp = security_headers::content_security_policy(&index_html, &site.config);
    let csp = HeaderValue::from_str(&csp).map_err(|_| {
        anyhow::anyhow!("the content security policy is not a valid header value: {csp:?}")
    })?;
    let config = config_json::ConfigJson::new(&site.config)?;
    tracing::debug!(dir = %site.dir.display(), files = assets.len(), bytes = assets.total_bytes(), "static files loaded");

    let router = Router::new()
        .route(
            "/config.json",
            get(move || std::future::ready(config.response())).fallback(method_not_allowed),
        )
        .route(
            "/healthz",
            get(|| async { "ok" }).fallback(method_not_allowed),
        )
        // Everything is in memory once the router exists, so ready means up.
        .route(
            "/readyz",
            get(|| async { "ok" }).fallback(method_not_allowed),
        )
        .fallback(serve_asset)
        .with_state(Arc::new(assets));
    // Access log: one span and one line per request at INFO (`RUST_LOG=tower_http=warn` mutes it).
    let access_log = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    Ok(router.layer((access_log, security_headers::layer(csp))))
}

async fn method_not_allowed() -> Response {
    error::method_not_allowed()
}

async fn serve_asset(State(assets): State<Arc<assets::Assets>>, req: Request) -> Response {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed().await;
    }
    let Ok(key) = request_path::to_key(req.uri().path()) else {
        return ApiError::unsafe_path().into_response();
    };
    let found = if key.is_empty() || key.ends_with('/') {
        assets.get(&format!("{key}index.html"))
    } else {
        assets.get(&key)
    };
    let asset = match found {
        Some(a) => a,
        None if fallback::is_navigation(&key, req.headers()) => assets.index(),
        None => return ApiError::no_such_file(&key).into_response(),
    };
    respond::file(asset, method, req.headers()).into_response()
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let site = Site {
        dir: args.dir.clone(),
        config: args.config.runtime_config()?,
    };
    let app = router(site)?;
    let listener = crate::serve::bind(args.listen).await?;
    tracing::info!(app = ?args.app, dir = %args.dir.display(), listen = %args.listen, "static server ready");
    crate::serve::serve(listener, app).await
}
