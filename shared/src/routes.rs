//! The gateway's route table. `sa-server dev` routes with it, and the k8s tests compare the
//! rendered VirtualServices against it, so local and cluster routing cannot drift apart.

/// Which part of sa answers a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Client,
    Explorer,
    Store,
    Auth,
}

/// One host of domain D: `{sub}.D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostRoute {
    pub sub: &'static str,
    pub service: Service,
    /// The Istio Gateway for this host, `namespace/name`.
    pub gateway: &'static str,
}

pub const HOSTS: &[HostRoute] = &[
    HostRoute {
        sub: "client",
        service: Service::Client,
        gateway: "sacl/sa-client-gateway",
    },
    HostRoute {
        sub: "explorer",
        service: Service::Explorer,
        gateway: "saex/sa-explorer-gateway",
    },
    HostRoute {
        sub: "store",
        service: Service::Store,
        gateway: "sasv/sa-gateway",
    },
    HostRoute {
        sub: "auth",
        service: Service::Auth,
        gateway: "agate/auth-gateway",
    },
];

/// Storage backends (also `sa-server store --backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Backend {
    File,
    Redis,
    Postgres,
}

impl Backend {
    /// The name `/api/info` reports and `--backend` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::File => "file",
            Backend::Redis => "redis",
            Backend::Postgres => "postgres",
        }
    }
}

/// One path route on the store host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreRoute {
    /// Store id in `/config.json` (`file`, `redis`, `sql`).
    pub id: &'static str,
    /// Tab title.
    pub title: &'static str,
    /// Path prefix on `store.D`, with its trailing slash.
    pub prefix: &'static str,
    /// Whether the prefix is removed before the store sees the path.
    pub strip_prefix: bool,
    pub backend: Backend,
    /// The Kubernetes Service (namespace `sa`) that serves this route.
    pub k8s_service: &'static str,
}

/// Matched in order; the first prefix that matches wins.
pub const STORE_ROUTES: &[StoreRoute] = &[
    StoreRoute {
        id: "file",
        title: "File",
        prefix: "/file/",
        strip_prefix: true,
        backend: Backend::File,
        k8s_service: "store-file",
    },
    StoreRoute {
        id: "redis",
        title: "Redis",
        prefix: "/redis/",
        strip_prefix: true,
        backend: Backend::Redis,
        k8s_service: "store-redis",
    },
    StoreRoute {
        id: "sql",
        title: "PostgreSQL",
        prefix: "/sql/",
        strip_prefix: true,
        backend: Backend::Postgres,
        k8s_service: "store-sql",
    },
    // The original URLs keep working: `/api/…` without a prefix is the file store.
    StoreRoute {
        id: "file",
        title: "File",
        prefix: "/api/",
        strip_prefix: false,
        backend: Backend::File,
        k8s_service: "store-file",
    },
];

/// The host part of a `Host` header without its `:port`, lower-cased.
pub fn host_without_port(host: &str) -> String {
    let h = if let Some(rest) = host.strip_prefix('[') {
        // IPv6 literal: keep the brackets' content only.
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        })
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// The service for a host of `domain`, ignoring any port.
pub fn service_for_host(host: &str, domain: &str) -> Option<Service> {
    let h = host_without_port(host);
    let sub = h.strip_suffix(domain)?.strip_suffix('.')?;
    HOSTS.iter().find(|r| r.sub == sub).map(|r| r.service)
}

/// The store route for a path on the store host, and the path the store instance sees.
pub fn store_route(path: &str) -> Option<(&'static StoreRoute, String)> {
    STORE_ROUTES
        .iter()
        .find(|r| path.starts_with(r.prefix))
        .map(|r| {
            let rest = if r.strip_prefix {
                &path[r.prefix.len() - 1..]
            } else {
                path
            };
            (r, rest.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_matching_ignores_port_and_case() {
        assert_eq!(
            service_for_host("client.sa.localhost:8080", "sa.localhost"),
            Some(Service::Client)
        );
        assert_eq!(
            service_for_host("STORE.sa.localhost", "sa.localhost"),
            Some(Service::Store)
        );
        assert_eq!(service_for_host("sa.localhost:8080", "sa.localhost"), None);
        assert_eq!(
            service_for_host("evil-client.sa.localhost", "sa.localhost"),
            None
        );
        assert_eq!(
            service_for_host("x.client.sa.localhost", "sa.localhost"),
            None
        );
    }

    #[test]
    fn store_prefixes_are_stripped() {
        let (r, p) = store_route("/redis/api/model/1").unwrap();
        assert_eq!((r.backend, p.as_str()), (Backend::Redis, "/api/model/1"));
        let (r, p) = store_route("/api/model").unwrap();
        assert_eq!((r.backend, p.as_str()), (Backend::File, "/api/model"));
        let (r, p) = store_route("/sql/healthz").unwrap();
        assert_eq!((r.id, p.as_str()), ("sql", "/healthz"));
        assert!(store_route("/filex/api").is_none());
        assert!(store_route("/").is_none());
    }
}
