//! `sa-server store`: the JSON model REST service, with a file, Redis or PostgreSQL backend.
//!
//! - `routes/`: the HTTP surface (`model.rs` is the model resource);
//! - `backend/`: the storage systems behind one trait (with each model's history);
//! - `feed.rs`: the change feed's one backend reader per instance and its fan-out;
//! - `jwt/`: bearer token verification against each issuer's JWKS, and the access rules;
//! - `urls.rs`: absolute URLs as the caller sees them; `error.rs`: the JSON error contract.
use std::{sync::Arc, time::Duration};

use axum::Router;

pub mod args;
pub mod backend;
pub mod error;
pub mod feed;
pub mod jwt;
pub mod metrics;
pub mod routes;
pub mod urls;

pub use args::{Args, AuthMode, BackendKind, FsyncMode, HistoryArgs};

/// Builds one store instance (backend, verifier, router) from its flags.
pub async fn router(args: &Args) -> anyhow::Result<Router> {
    let issuers = jwt::issuers::from_args(args)?;
    router_with_issuers(args, issuers).await
}

async fn router_with_issuers(
    args: &Args,
    issuers: Vec<jwt::IssuerConfig>,
) -> anyhow::Result<Router> {
    let mut routers = routers_for_subsets(args, issuers, &[args.subset.as_str()]).await?;
    Ok(routers.remove(0))
}

/// One router per subset, all on one backend object, so the subsets see the same data (and
/// the file backend keeps one index and one set of locks).
pub async fn routers_for_subsets(
    args: &Args,
    issuers: Vec<jwt::IssuerConfig>,
    subsets: &[&str],
) -> anyhow::Result<Vec<Router>> {
    let verifier = || -> anyhow::Result<Option<jwt::Verifier>> {
        match args.auth {
            AuthMode::Off => {
                tracing::warn!("AUTH IS OFF: the store accepts EVERY request as a writer, without a token. Use --auth off only for local experiments, never where anyone else can reach the store.");
                Ok(None)
            }
            AuthMode::On if issuers.is_empty() => anyhow::bail!("no trusted issuer: give --issuer and --jwks-url, or --issuers-file (or --auth off for a local experiment)"),
            AuthMode::On => Ok(Some(jwt::Verifier::new(issuers.clone())?)),
        }
    };
    let name = args.store_name();
    let timeout = Duration::from_millis(args.backend_timeout_ms);
    let retention = args.history.retention(args.backend);
    let max_subscribers = args.history.max_subscribers;
    macro_rules! apps {
        ($backend:expr) => {{
            let backend = Arc::new($backend);
            let mut routers = Vec::new();
            // One change feed, so one backend reader, for every subset on this backend object.
            let mut shared_feed = None;
            for subset in subsets {
                let info = sa_shared::model::StoreInfo {
                    backend: args.backend.as_str().to_string(),
                    name: name.clone(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    subset: subset.to_string(),
                };
                let metrics = Arc::new(metrics::Metrics::new(&info.backend, &name));
                let feed = shared_feed
                    .get_or_insert_with(|| {
                        feed::Feed::start(backend.clone(), metrics.clone(), max_subscribers)
                    })
                    .clone();
                routers.push(routes::router(
                    Arc::new(routes::App {
                        backend: backend.clone(),
                        info,
                        verifier: verifier()?,
                        body_limit: args.body_limit,
                        metrics,
                        feed,
                    }),
                    &args.allowed_origins,
                ));
            }
            routers
        }};
    }
    Ok(match args.backend {
        BackendKind::File => {
            let dir = args.data_dir.clone();
            let fsync = args.fsync;
            let (budget, source) = args.cache_budget();
            tracing::info!(
                cache_bytes = budget,
                from = source,
                "file store cache budget"
            );
            let b = tokio::task::spawn_blocking(move || {
                backend::file::FileBackend::open_with_budget(&dir, fsync, budget, retention)
            })
            .await??;
            apps!(b)
        }
        BackendKind::Redis => {
            let url = args.redis_url.as_deref().ok_or_else(|| {
                anyhow::anyhow!("--backend redis needs --redis-url (e.g. redis://127.0.0.1:6379)")
            })?;
            apps!(backend::redis::RedisBackend::connect_lazy(
                url, &name, timeout, retention
            )?)
        }
        BackendKind::Postgres => {
            let url = args.database_url.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--backend postgres needs --database-url (e.g. postgres://sa@127.0.0.1/sa)"
                )
            })?;
            let b = backend::postgres::PostgresBackend::connect_lazy(url, timeout, retention)?;
            // Migrate now when the database is there; otherwise the first request retries.
            if let Err(e) = b.migrate().await {
                tracing::warn!(error = %e, "PostgreSQL is not reachable yet; the store answers 503 until it is");
            }
            apps!(b)
        }
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let app = router(&args).await?;
    let listener = crate::serve::bind(args.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, backend = args.backend.as_str(), "store listening");
    crate::serve::serve(listener, app).await
}
