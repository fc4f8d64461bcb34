//! `GET /config.json`: where the other parts live, from flags or environment, so one build of
//! each app runs in every environment.
use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use sa_shared::config::{Layout, RuntimeConfig};

use super::cache_policy;

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
    #[arg(long, env = "SA_LAYOUT", value_enum, default_value_t = Layout::Standard)]
    pub layout: Layout,
    /// Store ids to offer (default: all of `file,redis,sql`).
    #[arg(long, env = "SA_STORES", value_delimiter = ',')]
    pub stores: Vec<String>,
}

impl ConfigArgs {
    pub fn runtime_config(&self) -> anyhow::Result<RuntimeConfig> {
        anyhow::ensure!(
            matches!(self.public_scheme.as_str(), "http" | "https"),
            "--public-scheme must be http or https, not {:?}",
            self.public_scheme
        );
        // A default port never appears in the URLs (`sa_shared::config::origin`).
        let mut c = RuntimeConfig::for_domain(&self.public_scheme, &self.domain, self.public_port);
        c.layout = self.layout;
        if !self.stores.is_empty() {
            if let Some(unknown) = self.stores.iter().find(|id| c.store(id).is_none()) {
                anyhow::bail!("--stores: unknown store {unknown:?}; choose from file, redis, sql");
            }
            c.stores.retain(|s| self.stores.contains(&s.id));
        }
        Ok(c)
    }
}

/// The serialised document, built once.
#[derive(Clone)]
pub struct ConfigJson(Bytes);

impl ConfigJson {
    pub fn new(config: &RuntimeConfig) -> anyhow::Result<Self> {
        Ok(ConfigJson(Bytes::from(serde_json::to_vec(config)?)))
    }

    pub fn response(&self) -> Response {
        const JSON: HeaderValue = HeaderValue::from_static("application/json");
        (
            [
                (header::CONTENT_TYPE, JSON),
                (header::CACHE_CONTROL, cache_policy::REVALIDATE),
            ],
            self.0.clone(),
        )
            .into_response()
    }
}
