//! The runtime config that the static server answers at `GET /config.json`.
//!
//! One build of each app runs in every environment; this document tells it where the other
//! parts live.
use serde::{Deserialize, Serialize};

/// One storage system the apps can reach (one explorer tab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreEntry {
    /// Route id: `file`, `redis` or `sql`.
    pub id: String,
    /// Human name shown on the tab.
    pub name: String,
    /// Base URL of the store instance, without a trailing slash (`…/file`).
    pub url: String,
}

/// Which layout the client renders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    #[default]
    Standard,
    /// The phone layout served to the gateway's mobile-origin route.
    Compact,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    pub domain: String,
    pub auth_url: String,
    pub client_url: String,
    pub explorer_url: String,
    pub stores: Vec<StoreEntry>,
    #[serde(default)]
    pub layout: Layout,
}

impl RuntimeConfig {
    /// The config for a deployment on `domain`, reached with `scheme` and an optional port
    /// (`None` for the scheme's default port, which never appears in a URL).
    pub fn for_domain(scheme: &str, domain: &str, port: Option<u16>) -> Self {
        let url = |sub: &str| match port {
            Some(p) => format!("{scheme}://{sub}.{domain}:{p}"),
            None => format!("{scheme}://{sub}.{domain}"),
        };
        let store = url("store");
        let stores = crate::routes::STORE_ROUTES
            .iter()
            .filter(|r| r.strip_prefix)
            .map(|r| StoreEntry {
                id: r.id.to_string(),
                name: r.title.to_string(),
                url: format!("{store}{}", r.prefix.trim_end_matches('/')),
            })
            .collect();
        RuntimeConfig {
            domain: domain.to_string(),
            auth_url: url("auth"),
            client_url: url("client"),
            explorer_url: url("explorer"),
            stores,
            layout: Layout::Standard,
        }
    }

    /// The default under `trunk serve`: the local dev backend on port 8080.
    pub fn local_dev() -> Self {
        Self::for_domain("http", "sa.localhost", Some(8080))
    }

    pub fn store(&self, id: &str) -> Option<&StoreEntry> {
        self.stores.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_never_appear() {
        let c = RuntimeConfig::for_domain("https", "sa.example.com", None);
        assert_eq!(c.auth_url, "https://auth.sa.example.com");
        assert_eq!(c.stores[0].url, "https://store.sa.example.com/file");
        assert!(c
            .stores
            .iter()
            .all(|s| !s.url.contains(':') || s.url.starts_with("https://")));
    }

    #[test]
    fn local_dev_lists_three_stores() {
        let c = RuntimeConfig::local_dev();
        let ids: Vec<_> = c.stores.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["file", "redis", "sql"]);
        assert_eq!(
            c.store("sql").unwrap().url,
            "http://store.sa.localhost:8080/sql"
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["layout"], "standard");
    }
}
