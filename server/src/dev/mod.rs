//! `sa-server dev`: every role in one process behind a host router that acts as the gateway.
//!
//! Hosts, store paths and the mesh's rules (canary header, weighted split, mobile User-Agent,
//! fault injection) come from `sa_shared::routes`, the same table the k8s tests check the
//! VirtualServices against. Like the mesh, every answer says where it went (`x-sa-upstream`),
//! every request gets one access-log line, and `/metrics` on the bare host counts requests the
//! way Istio's `istio_requests_total` does.
use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    Router,
};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use sa_shared::routes::{self, Backend, Fault, Service, StoreTarget, Subset};
use tower::ServiceExt;

mod error;
mod roles;

use crate::{error::ApiError, static_site};

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
    #[arg(long, env = "SA_LAYOUT", value_enum, default_value_t = sa_shared::config::Layout::Standard)]
    pub layout: sa_shared::config::Layout,
    /// Percent of untagged store requests that go to the v2 instances (the mesh's weighted
    /// route). Exact per 100 requests, so a test can count it.
    #[arg(long, env = "SA_CANARY_WEIGHT", default_value_t = routes::DEFAULT_CANARY_WEIGHT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub canary_weight: u8,
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

/// Where a request went, as `x-sa-upstream` says it: a Kubernetes Service and its subset.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Upstream {
    service: &'static str,
    subset: Option<&'static str>,
}

impl Upstream {
    const GATEWAY: Upstream = Upstream {
        service: "gateway",
        subset: None,
    };

    fn header(&self) -> String {
        routes::upstream(self.service, self.subset)
    }
}

/// What the gateway did with one request.
struct Routed {
    response: Response,
    upstream: Upstream,
    /// Istio's response flags: `-`, `DI` (delay injected), `FI` (fault injected), `NR` (no
    /// route), `UH` (no healthy upstream).
    flags: &'static str,
    fault: Option<Fault>,
}

impl Routed {
    fn to(upstream: Upstream, response: Response) -> Routed {
        Routed {
            response,
            upstream,
            flags: "-",
            fault: None,
        }
    }

    fn gateway(flags: &'static str, response: Response) -> Routed {
        Routed {
            response,
            upstream: Upstream::GATEWAY,
            flags,
            fault: None,
        }
    }
}

/// The gateway's request counters, labelled like Istio's standard metrics.
struct MeshMetrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

const METRIC_LABELS: &[&str] = &[
    "reporter",
    "destination_service_name",
    "destination_version",
    "request_protocol",
    "response_code",
    "response_flags",
];

impl MeshMetrics {
    fn new() -> MeshMetrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "istio_requests_total",
                "Requests through the dev gateway, by destination and answer",
            ),
            METRIC_LABELS,
        )
        .expect("static metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "istio_request_duration_milliseconds",
                "Time from request to answer at the dev gateway",
            )
            .buckets(vec![
                1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
            ]),
            METRIC_LABELS,
        )
        .expect("static metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("unique metric");
        registry
            .register(Box::new(duration.clone()))
            .expect("unique metric");
        MeshMetrics {
            registry,
            requests,
            duration,
        }
    }

    fn record(&self, upstream: &Upstream, status: StatusCode, flags: &str, elapsed: Duration) {
        let code = status.as_u16().to_string();
        let labels = [
            "source",
            upstream.service,
            upstream.subset.unwrap_or("unknown"),
            "http",
            code.as_str(),
            flags,
        ];
        self.requests.with_label_values(&labels).inc();
        self.duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64() * 1000.0);
    }

    fn render(&self) -> Response {
        let mut buf = Vec::new();
        let encoder = prometheus::TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        (
            [(header::CONTENT_TYPE, encoder.format_type().to_string())],
            buf,
        )
            .into_response()
    }
}

/// The gateway's routing table with a router per destination.
#[derive(Clone)]
pub struct Gateway {
    domain: String,
    /// `CLIENT_RULES` in order, each with its User-Agent matcher and the client it serves.
    clients: Arc<Vec<(Option<regex::Regex>, &'static routes::ClientRule, Router)>>,
    explorer: Router,
    auth: Router,
    /// v1 and v2 of each running store, on the same data.
    stores: Arc<HashMap<Backend, [Router; 2]>>,
    canary_weight: u8,
    /// Untagged store requests so far: the weighted split is exact per 100 of them.
    untagged: Arc<AtomicU64>,
    metrics: Arc<MeshMetrics>,
    index: Arc<String>,
}

impl Gateway {
    pub async fn build(args: &Args, ctx: &DevContext) -> anyhow::Result<Gateway> {
        let port = ctx.listen.port();
        let scheme_port = args.public_port.unwrap_or(port);
        let config_for = |layout: sa_shared::config::Layout| static_site::ConfigArgs {
            domain: ctx.domain.clone(),
            public_scheme: "http".into(),
            public_port: Some(scheme_port),
            layout,
            stores: Vec::new(),
        };
        let stores: HashMap<Backend, [Router; 2]> =
            roles::store_instances(ctx).await?.into_iter().collect();
        // Only offer the stores that run, so the apps don't show tabs that can never work.
        let offered = |mut config: sa_shared::config::RuntimeConfig| {
            config.stores.retain(|s| {
                routes::STORE_ROUTES
                    .iter()
                    .any(|r| r.id == s.id && stores.contains_key(&r.backend))
                    || stores.is_empty() && s.id == "file"
            });
            config
        };
        let config = offered(config_for(args.layout).runtime_config()?);
        let mut clients = Vec::new();
        for rule in routes::CLIENT_RULES {
            // `--layout` sets the standard route's layout; the mobile route is always compact.
            let layout = if rule.user_agent.is_some() {
                rule.layout
            } else {
                args.layout
            };
            let matcher = match rule.user_agent {
                // Istio's regex StringMatch matches the whole value.
                Some(re) => Some(regex::Regex::new(&format!("^(?:{re})$"))?),
                None => None,
            };
            let site = static_site::router(static_site::Site {
                dir: args.dist.join("client"),
                config: offered(config_for(layout).runtime_config()?),
            })?;
            clients.push((matcher, rule, site));
        }
        let explorer = static_site::router(static_site::Site {
            dir: args.dist.join("explorer"),
            config,
        })?;
        let auth = roles::auth_router(ctx).await?;
        Ok(Gateway {
            domain: ctx.domain.clone(),
            clients: Arc::new(clients),
            explorer,
            auth,
            stores: Arc::new(stores),
            canary_weight: args.canary_weight,
            untagged: Arc::new(AtomicU64::new(0)),
            metrics: Arc::new(MeshMetrics::new()),
            index: Arc::new(index_page(ctx)),
        })
    }

    pub fn into_router(self) -> Router {
        Router::new().fallback(move |req: Request| {
            let gw = self.clone();
            async move { gw.route(req).await }
        })
    }

    /// Routes one request, then says where it went: the `x-sa-upstream` header, the access log
    /// and the metrics.
    async fn route(&self, req: Request) -> Response {
        let started = tokio::time::Instant::now();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let Routed {
            mut response,
            upstream,
            flags,
            fault,
        } = self.dispatch(&host, req).await;
        let h = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&upstream.header()) {
            h.insert(routes::UPSTREAM_HEADER, v);
        }
        if let Some(f) = fault {
            h.insert(routes::FAULT_HEADER, HeaderValue::from_static(f.name()));
        }
        let elapsed = started.elapsed();
        let status = response.status();
        self.metrics.record(&upstream, status, flags, elapsed);
        tracing::info!(
            target: "sa::access",
            %method,
            host = %host,
            path = %path,
            status = status.as_u16(),
            upstream = %upstream.header(),
            flags,
            duration_ms = elapsed.as_millis() as u64,
            "access"
        );
        response
    }

    async fn dispatch(&self, host: &str, req: Request) -> Routed {
        match routes::service_for_host(host, &self.domain) {
            Some(Service::Client) => self.route_client(req).await,
            Some(Service::Explorer) => Routed::to(
                Upstream {
                    service: routes::k8s_service(Service::Explorer),
                    subset: None,
                },
                oneshot(&self.explorer, req).await,
            ),
            Some(Service::Auth) => {
                let upstream = Upstream {
                    service: routes::k8s_service(Service::Auth),
                    subset: None,
                };
                Routed::to(upstream, oneshot(&self.auth, req).await)
            }
            Some(Service::Store) => self.route_store(req).await,
            None => {
                let bare = routes::host_without_port(host);
                if bare == self.domain
                    || bare == "localhost"
                    || bare.parse::<std::net::IpAddr>().is_ok()
                {
                    let response = if req.uri().path() == "/metrics" {
                        self.metrics.render()
                    } else {
                        Html(self.index.as_str().to_owned()).into_response()
                    };
                    Routed::gateway("-", response)
                } else {
                    Routed::gateway(
                        "NR",
                        ApiError::unknown_host(host, &self.domain).into_response(),
                    )
                }
            }
        }
    }

    async fn route_client(&self, req: Request) -> Routed {
        let ua = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some((_, rule, router)) = self
            .clients
            .iter()
            .find(|(m, _, _)| m.as_ref().is_none_or(|re| re.is_match(ua)))
        else {
            return Routed::gateway(
                "NR",
                ApiError::no_such_route("the client app").into_response(),
            );
        };
        let upstream = Upstream {
            service: routes::k8s_service(Service::Client),
            subset: Some(rule.subset),
        };
        Routed::to(upstream, oneshot(router, req).await)
    }

    /// The weighted route's pick: exactly `canary_weight` of every 100 untagged requests go to
    /// v2, spread evenly.
    fn weighted_subset(&self) -> Subset {
        let n = self.untagged.fetch_add(1, Ordering::Relaxed);
        let w = u64::from(self.canary_weight);
        if (n + 1) * w / 100 > n * w / 100 {
            Subset::V2
        } else {
            Subset::V1
        }
    }

    async fn route_store(&self, mut req: Request) -> Routed {
        let path = req.uri().path().to_owned();
        let Some((route, rest)) = routes::store_route(&path) else {
            return Routed::gateway(
                "NR",
                ApiError::no_such_route("/file/, /redis/, /sql/ and /api/").into_response(),
            );
        };
        let headers = req.headers();
        let rule = routes::store_rule(|name| headers.get(name).and_then(|v| v.to_str().ok()));
        let subset = match rule.target {
            StoreTarget::Subset(s) => s,
            StoreTarget::Weighted => self.weighted_subset(),
        };
        let upstream = Upstream {
            service: route.k8s_service,
            subset: Some(subset.as_str()),
        };
        let faulted = |flags, response| Routed {
            response,
            upstream: upstream.clone(),
            flags,
            fault: rule.fault,
        };
        match rule.fault {
            Some(Fault::Abort { status }) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return faulted(
                    "FI",
                    ApiError::fault_injected(
                        status,
                        routes::TEST_HEADER,
                        rule.header.map_or("", |(_, v)| v),
                    )
                    .into_response(),
                );
            }
            Some(Fault::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => {}
        }
        let Some(instances) = self.stores.get(&route.backend) else {
            return faulted(
                "UH",
                ApiError::store_not_running(route.title).into_response(),
            );
        };
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let Ok(uri) = format!("{rest}{query}").parse::<Uri>() else {
            return Routed::gateway("-", ApiError::bad_path().into_response());
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
        let store = match subset {
            Subset::V1 => &instances[0],
            Subset::V2 => &instances[1],
        };
        let flags = if rule.fault.is_some() { "DI" } else { "-" };
        faulted(flags, oneshot(store, req).await)
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
    let stores: Vec<&str> = routes::STORE_ROUTES
        .iter()
        .filter(|r| r.strip_prefix && gateway.stores.contains_key(&r.backend))
        .map(|r| r.id)
        .collect();
    println!("  stores    {} (v1 and v2 of each)", stores.join(", "));
    println!(
        "  canary    {} % of untagged store requests go to v2 (--canary-weight)",
        args.canary_weight
    );
    println!("  metrics   http://127.0.0.1:{}/metrics", ctx.listen.port());
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
