//! `sa-server store`: the JSON model REST service, with a file, Redis or PostgreSQL backend.
//!
//! - `routes/`: the HTTP surface (`model.rs` is the model resource);
//! - `backend/`: the storage systems behind one trait (with each model's history);
//! - `feed.rs`: the change feed's one backend reader per instance and its fan-out;
//! - `jwt/`: bearer token verification against each issuer's JWKS, and the access rules;
//! - `urls.rs`: absolute URLs as the caller sees them; `error.rs`: the JSON error contract.
use std::{sync::Arc, time::Duration};

use axum::Router;
use sa_shared::routes::Backend as BackendId;

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
    let verifier = match args.auth {
        AuthMode::Off => {
            tracing::warn!("AUTH IS OFF: the store accepts EVERY request as a writer, without a token. Use --auth off only for local experiments, never where anyone else can reach the store.");
            None
        }
        AuthMode::On if issuers.is_empty() => anyhow::bail!("no trusted issuer: give --issuer and --jwks-url, or --issuers-file (or --auth off for a local experiment)"),
        AuthMode::On => Some(jwt::Verifier::new(issuers)?),
    };
    let name = args.store_name();
    let timeout = Duration::from_millis(args.backend_timeout_ms);
    let info = sa_shared::model::StoreInfo {
        backend: args.backend.as_str().to_string(),
        name: name.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let metrics = Arc::new(metrics::Metrics::new(&info.backend, &name));
    let retention = args.history.retention(args.backend);
    let max_subscribers = args.history.max_subscribers;
    macro_rules! app {
        ($backend:expr) => {{
            let backend = Arc::new($backend);
            let feed = feed::Feed::start(backend.clone(), metrics.clone(), max_subscribers);
            routes::router(
                Arc::new(routes::App {
                    backend,
                    info,
                    verifier,
                    body_limit: args.body_limit,
                    metrics,
                    feed,
                }),
                &args.allowed_origins,
            )
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
            app!(b)
        }
        BackendKind::Redis => {
            let url = args.redis_url.as_deref().ok_or_else(|| {
                anyhow::anyhow!("--backend redis needs --redis-url (e.g. redis://127.0.0.1:6379)")
            })?;
            app!(backend::redis::RedisBackend::connect_lazy(
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
            app!(b)
        }
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let app = router(&args).await?;
    let listener = crate::serve::bind(args.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, backend = args.backend.as_str(), "store listening");
    crate::serve::serve(listener, app).await
}

/// The store instances that `sa-server dev` mounts on `store.D`, by backend.
pub async fn dev_instances(
    ctx: &crate::dev::DevContext,
) -> anyhow::Result<Vec<(BackendId, Router)>> {
    let mut issuer = jwt::IssuerConfig::with_jwks_uri(
        ctx.url("auth"),
        ctx.jwks_url(),
        vec![sa_shared::auth::AUDIENCE.to_string()],
    );
    // auth.D is served by this same process; reach it at the listener whatever the public port.
    issuer.connect_to = Some(ctx.listen);
    let base = |kind: BackendKind| {
        let mut a = Args::new(kind, ctx.data_dir.join("models"));
        a.allowed_origins = ctx.app_origins();
        a.redis_url = ctx.redis_url.clone();
        a.database_url = ctx.database_url.clone();
        a
    };
    let mut out = vec![(
        BackendId::File,
        router_with_issuers(&base(BackendKind::File), vec![issuer.clone()]).await?,
    )];
    if ctx.redis_url.is_some() {
        out.push((
            BackendId::Redis,
            router_with_issuers(&base(BackendKind::Redis), vec![issuer.clone()]).await?,
        ));
    }
    if ctx.database_url.is_some() {
        out.push((
            BackendId::Postgres,
            router_with_issuers(&base(BackendKind::Postgres), vec![issuer]).await?,
        ));
    }
    Ok(out)
}
