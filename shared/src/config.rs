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

/// The port a URL of `scheme` leaves out (80 for http, 443 for https).
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `scheme://host[:port]`, where a default port is never written.
pub fn origin(scheme: &str, host: &str, port: Option<u16>) -> String {
    match port.filter(|p| Some(*p) != default_port(scheme)) {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    }
}

/// `host[:port]` of a request, with a default port of `scheme` taken off.
pub fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    match default_port(scheme) {
        Some(p) => authority
            .strip_suffix(&format!(":{p}"))
            .unwrap_or(authority),
        None => authority,
    }
}

/// Which layout the client renders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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
    /// (a default port, or `None`, never appears in a URL).
    pub fn for_domain(scheme: &str, domain: &str, port: Option<u16>) -> Self {
        let url = |sub: &str| origin(scheme, &format!("{sub}.{domain}"), port);
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
        for (scheme, port) in [("https", None), ("https", Some(443)), ("http", Some(80))] {
            let c = RuntimeConfig::for_domain(scheme, "sa.example.com", port);
            assert_eq!(c.auth_url, format!("{scheme}://auth.sa.example.com"));
            assert_eq!(
                c.stores[0].url,
                format!("{scheme}://store.sa.example.com/file")
            );
            let urls = [&c.auth_url, &c.client_url, &c.explorer_url]
                .into_iter()
                .chain(c.stores.iter().map(|s| &s.url));
            for url in urls {
                let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
                assert!(!authority.contains(':'), "{url} spells out a default port");
            }
        }
        let c = RuntimeConfig::for_domain("https", "sa.example.com", Some(8443));
        assert_eq!(c.auth_url, "https://auth.sa.example.com:8443");
    }

    #[test]
    fn default_port_rule() {
        assert_eq!(origin("http", "a.b", Some(80)), "http://a.b");
        assert_eq!(origin("http", "a.b", Some(443)), "http://a.b:443");
        assert_eq!(origin("https", "a.b", Some(443)), "https://a.b");
        assert_eq!(without_default_port("https", "a.b:443"), "a.b");
        assert_eq!(without_default_port("https", "a.b:80"), "a.b:80");
        assert_eq!(without_default_port("http", "a.b:80"), "a.b");
        assert_eq!(without_default_port("http", "a.b:8080"), "a.b:8080");
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
