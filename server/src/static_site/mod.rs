//! `sa-server static`: serves one browser app (a Trunk build) and its `/config.json`.
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sa_shared::config::{Layout, RuntimeConfig};
use tower::ServiceExt;
use tower_http::services::ServeDir;

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
    /// The Trunk build to serve (`dist/client` or `dist/explorer`).
    #[arg(long, env = "SA_DIR")]
    pub dir: PathBuf,
    #[arg(long, env = "SA_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// What `/config.json` says, from flags or environment.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Domain D: the apps live on `client.D`, `explorer.D`, `store.D`, `auth.D`.
    #[arg(long, env = "SA_DOMAIN", default_value = "sa.localhost")]
    pub domain: String,
    /// Scheme the browser uses to reach the hosts.
    #[arg(long, env = "SA_PUBLIC_SCHEME", default_value = "http")]
    pub public_scheme: String,
    /// Port the browser uses, when it is not the scheme's default.
    #[arg(long, env = "SA_PUBLIC_PORT")]
    pub public_port: Option<u16>,
    /// `standard`, or `compact` for the phone layout.
    #[arg(long, env = "SA_LAYOUT", default_value = "standard")]
    pub layout: String,
    /// Store ids to offer (default: all of `file,redis,sql`).
    #[arg(long, env = "SA_STORES", value_delimiter = ',')]
    pub stores: Vec<String>,
}

impl ConfigArgs {
    pub fn runtime_config(&self) -> anyhow::Result<RuntimeConfig> {
        let port = self.public_port.filter(|p| !matches!((self.public_scheme.as_str(), *p), ("http", 80) | ("https", 443)));
        let mut c = RuntimeConfig::for_domain(&self.public_scheme, &self.domain, port);
        c.layout = match self.layout.as_str() {
            "standard" => Layout::Standard,
            "compact" => Layout::Compact,
            other => anyhow::bail!("--layout must be standard or compact, not {other:?}"),
        };
        if !self.stores.is_empty() {
            c.stores.retain(|s| self.stores.contains(&s.id));
        }
        Ok(c)
    }
}

/// One app's files and config.
pub struct Site {
    pub dir: PathBuf,
    pub config: RuntimeConfig,
}

pub fn router(site: Site) -> anyhow::Result<Router> {
    let index = site.dir.join("index.html");
    anyhow::ensure!(index.is_file(), "{} has no index.html: build the app first (cargo xtask dev builds both)", site.dir.display());
    let config = Arc::new(serde_json::to_vec(&site.config)?);
    let files = ServeDir::new(&site.dir).precompressed_br().precompressed_gzip().append_index_html_on_directories(true);
    let index_svc = tower_http::services::ServeFile::new(index);
    let state = Arc::new((files, index_svc));
    Ok(Router::new()
        .route("/config.json", get(move || {
            let config = config.clone();
            async move { ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], (*config).clone()) }
        }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .fallback(serve_file)
        .with_state(state))
}

type Files = Arc<(ServeDir, tower_http::services::ServeFile)>;

async fn serve_file(State(files): State<Files>, req: Request) -> Response {
    let navigation = is_navigation(&req);
    let res = files.0.clone().oneshot(req).await.into_response();
    if res.status() == StatusCode::NOT_FOUND && navigation {
        let mut idx = files.1.clone().oneshot(Request::new(axum::body::Body::empty())).await.into_response();
        idx.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return idx;
    }
    res
}

fn is_navigation(req: &Request) -> bool {
    let last = req.uri().path().rsplit('/').next().unwrap_or("");
    !last.contains('.')
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let site = Site { dir: args.dir.clone(), config: args.config.runtime_config()? };
    let app = router(site)?;
    let listener = crate::serve::bind(args.listen).await?;
    tracing::info!(app = ?args.app, dir = %args.dir.display(), listen = %args.listen, "static server ready");
    crate::serve::serve(listener, app).await
}
