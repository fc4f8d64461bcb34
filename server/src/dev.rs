//! `sa-server dev`: every role in one process behind a host router that acts as the gateway.
//!
//! Hosts and store paths come from `sa_shared::routes`, the same table the k8s tests check
//! the VirtualServices against.
use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    Router,
};
use sa_shared::routes::{self, Backend, Service};
use tower::ServiceExt;

use crate::{serve::json_error, static_site};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[arg(long, env = "SA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Domain D: hosts are `client.D`, `explorer.D`, `store.D` and `auth.D`.
    #[arg(long, env = "SA_DOMAIN", default_value = "sa.localhost")]
    pub domain: String,
    /// Where the app builds are (`DIST/client`, `DIST/explorer`).
    #[arg(long, env = "SA_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// Data directory of the file store and of auth.
    #[arg(long, env = "SA_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Adds the Redis store (`/redis/` on the store host).
    #[arg(long, env = "SA_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Adds the PostgreSQL store (`/sql/` on the store host).
    #[arg(long, env = "SA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The port browsers use, when it differs from the listen port (behind a proxy).
    #[arg(long, env = "SA_PUBLIC_PORT")]
    pub public_port: Option<u16>,
    /// The apps' layout in /config.json: `compact` is what the gateway's mobile route serves.
    #[arg(long, env = "SA_LAYOUT", default_value = "standard", value_parser = ["standard", "compact"])]
    pub layout: String,
}

/// What the roles need to know about the dev deployment they run in.
#[derive(Clone, Debug)]
pub struct DevContext {
    pub domain: String,
    /// `http://{sub}.{domain}:{port}` for each host.
    pub urls: HashMap<&'static str, String>,
    pub data_dir: PathBuf,
    pub redis_url: Option<String>,
    pub database_url: Option<String>,
    /// The address the dev listener is bound to (the store fetches auth's JWKS through it).
    pub listen: SocketAddr,
}

impl DevContext {
    pub fn url(&self, sub: &str) -> &str {
        self.urls.get(sub).map(String::as_str).unwrap_or_default()
    }

    /// Origins of the browser apps, for CORS and CSRF checks: the apps this gateway serves, and
    /// the same hosts on the `trunk serve` ports (8081 client, 8082 explorer; see Trunk.toml).
    pub fn app_origins(&self) -> Vec<String> {
        vec![
            self.url("client").to_string(),
            self.url("explorer").to_string(),
            format!("http://client.{}:8081", self.domain),
            format!("http://explorer.{}:8082", self.domain),
        ]
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.url("auth"))
    }
}

/// The gateway's routing table with a router per destination.
#[derive(Clone)]
pub struct Gateway {
    domain: String,
    client: Router,
    explorer: Router,
    auth: Option<Router>,
    stores: Arc<HashMap<Backend, Router>>,
    index: Arc<String>,
}

impl Gateway {
    pub async fn build(args: &Args, ctx: &DevContext) -> anyhow::Result<Gateway> {
        let port = ctx.listen.port();
        let scheme_port = args.public_port.unwrap_or(port);
        let config_for = || static_site::ConfigArgs {
            domain: ctx.domain.clone(),
            public_scheme: "http".into(),
            public_port: Some(scheme_port),
            layout: args.layout.clone(),
            stores: Vec::new(),
        };
        let mut config = config_for().runtime_config()?;
        let stores: HashMap<Backend, Router> = crate::store::dev_instances(ctx)
            .await?
            .into_iter()
            .collect();
        // Only offer the stores that run, so the apps don't show tabs that can never work.
        config.stores.retain(|s| {
            routes::STORE_ROUTES
                .iter()
                .any(|r| r.id == s.id && stores.contains_key(&r.backend))
                || stores.is_empty() && s.id == "file"
        });
        let client = static_site::router(static_site::Site {
            dir: args.dist.join("client"),
            config: config.clone(),
        })?;
        let explorer = static_site::router(static_site::Site {
            dir: args.dist.join("explorer"),
            config,
        })?;
        let auth = crate::auth::dev_router(ctx).await?;
        Ok(Gateway {
            domain: ctx.domain.clone(),
            client,
            explorer,
            auth,
            stores: Arc::new(stores),
            index: Arc::new(index_page(ctx)),
        })
    }

    pub fn into_router(self) -> Router {
        Router::new().fallback(move |req: Request| {
            let gw = self.clone();
            async move { gw.route(req).await }
        })
    }

    async fn route(&self, req: Request) -> Response {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        match routes::service_for_host(&host, &self.domain) {
            Some(Service::Client) => oneshot(&self.client, req).await,
            Some(Service::Explorer) => oneshot(&self.explorer, req).await,
            Some(Service::Auth) => match &self.auth {
                Some(r) => oneshot(r, req).await,
                None => json_error(
                    StatusCode::NOT_FOUND,
                    "not_built",
                    "the auth service is not part of this build yet",
                ),
            },
            Some(Service::Store) => self.route_store(req).await,
            None => {
                let bare = routes::host_without_port(&host);
                if bare == self.domain
                    || bare == "localhost"
                    || bare.parse::<std::net::IpAddr>().is_ok()
                {
                    Html(self.index.as_str().to_owned()).into_response()
                } else {
                    json_error(StatusCode::NOT_FOUND, "unknown_host", format!("no service answers host {host:?}; use client., explorer., store. or auth.{}", self.domain))
                }
            }
        }
    }

    async fn route_store(&self, mut req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let Some((route, rest)) = routes::store_route(&path) else {
            return json_error(
                StatusCode::NOT_FOUND,
                "no_route",
                "the store host serves /file/, /redis/, /sql/ and /api/",
            );
        };
        let Some(store) = self.stores.get(&route.backend) else {
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "store_not_configured", format!("the {} store is not running here; start sa-server dev with its URL (--redis-url / --database-url)", route.title));
        };
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let Ok(uri) = format!("{rest}{query}").parse::<Uri>() else {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_path",
                "the request path is not a valid URI",
            );
        };
        *req.uri_mut() = uri;
        let h = req.headers_mut();
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        if route.strip_prefix {
            if let Ok(v) = HeaderValue::from_str(route.prefix.trim_end_matches('/')) {
                h.insert("x-forwarded-prefix", v);
            }
        } else {
            h.remove("x-forwarded-prefix");
        }
        oneshot(store, req).await
    }
}

async fn oneshot(router: &Router, req: Request) -> Response {
    match router.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

fn index_page(ctx: &DevContext) -> String {
    let links: String = routes::HOSTS
        .iter()
        .map(|h| format!("<li><a href=\"{0}\">{0}</a></li>", ctx.url(h.sub)))
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>sa (dev)</title></head>\
<body style=\"font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem\"><h1>sa, running locally</h1><p>Each part of sa has its own host, as behind the gateway:</p><ul>{links}</ul></body></html>"
    )
}

pub fn context(args: &Args, listen: SocketAddr) -> DevContext {
    let port = args.public_port.unwrap_or(listen.port());
    let urls = routes::HOSTS
        .iter()
        .map(|h| {
            let url = if port == 80 {
                format!("http://{}.{}", h.sub, args.domain)
            } else {
                format!("http://{}.{}:{port}", h.sub, args.domain)
            };
            (h.sub, url)
        })
        .collect();
    DevContext {
        domain: args.domain.clone(),
        urls,
        data_dir: args.data.clone(),
        redis_url: args.redis_url.clone(),
        database_url: args.database_url.clone(),
        listen,
    }
}

/// Binds, builds the gateway and serves until SIGTERM. Tests call [`start`] instead.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let listener = crate::serve::bind(args.listen).await?;
    let ctx = context(&args, listener.local_addr()?);
    let gateway = Gateway::build(&args, &ctx).await?;
    println!("sa is running:");
    for h in routes::HOSTS {
        println!("  {:<9} {}", h.sub, ctx.url(h.sub));
    }
    crate::serve::serve(listener, gateway.into_router()).await
}

/// Starts the dev gateway on an already bound listener in the background (for tests).
pub async fn start(args: Args, listener: tokio::net::TcpListener) -> anyhow::Result<DevContext> {
    let ctx = context(&args, listener.local_addr()?);
    let gateway = Gateway::build(&args, &ctx).await?;
    tokio::spawn(async move {
        let _ = crate::serve::serve(listener, gateway.into_router()).await;
    });
    Ok(ctx)
}
