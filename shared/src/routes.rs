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

impl StoreRoute {
    /// The VirtualService route name of this prefix (`/file/` -> `file`); a rule's route is
    /// `{name}-{suffix}`.
    pub fn name(&self) -> &'static str {
        self.prefix.trim_matches('/')
    }
}

/// Response header that says where the gateway sent a request: `{service}` or
/// `{service} {subset}` (e.g. `store-file v2`). Set by `sa-server dev` and by every
/// VirtualService destination, so it is true on the cluster too.
pub const UPSTREAM_HEADER: &str = "x-sa-upstream";
/// Response header on answers whose route injected a fault: `delay` or `abort`.
pub const FAULT_HEADER: &str = "x-sa-fault";
/// `x-sa-channel: canary` goes to subset v2.
pub const CHANNEL_HEADER: &str = "x-sa-channel";
/// Requests carrying this header may get injected faults; no other request may.
pub const TEST_HEADER: &str = "x-sa-test";

/// The `{service}` or `{service} {subset}` value of [`UPSTREAM_HEADER`].
pub fn upstream(service: &str, subset: Option<&str>) -> String {
    match subset {
        Some(s) => format!("{service} {s}"),
        None => service.to_string(),
    }
}

/// A store version, selected by the pods' `version` label (DestinationRule subsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subset {
    V1,
    V2,
}

impl Subset {
    pub const ALL: [Subset; 2] = [Subset::V1, Subset::V2];

    pub fn as_str(self) -> &'static str {
        match self {
            Subset::V1 => "v1",
            Subset::V2 => "v2",
        }
    }
}

/// A fault the mesh injects (Istio `HTTPFaultInjection`, at 100 % of the matched requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long, then route as usual.
    Delay { ms: u64 },
    /// Answer this status without reaching the service.
    Abort { status: u16 },
}

impl Fault {
    /// The value of [`FAULT_HEADER`] and of Istio's `response_flags` idea (DI / FI).
    pub fn name(self) -> &'static str {
        match self {
            Fault::Delay { .. } => "delay",
            Fault::Abort { .. } => "abort",
        }
    }
}

/// Where a store rule sends its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreTarget {
    /// Always this subset.
    Subset(Subset),
    /// v1 and v2 by the canary weight: `100 - w` to v1 and `w` to v2.
    Weighted,
}

/// One rule applied on every store prefix (`STORE_ROUTES`), in first-match order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreRule {
    /// The route is named `{prefix name}-{suffix}`, or `{prefix name}` when empty.
    pub suffix: &'static str,
    /// The request header (name, exact value) the rule requires; `None` matches every request.
    pub header: Option<(&'static str, &'static str)>,
    pub fault: Option<Fault>,
    pub target: StoreTarget,
}

impl StoreRule {
    pub fn route_name(&self, route: &StoreRoute) -> String {
        if self.suffix.is_empty() {
            route.name().to_string()
        } else {
            format!("{}-{}", route.name(), self.suffix)
        }
    }
}

/// How long `x-sa-test: delay` holds a request.
pub const TEST_DELAY_MS: u64 = 2000;

/// The store host's rules, per prefix, first match wins: faults only for tagged test traffic,
/// then the canary channel, then the weighted split of everything else.
pub const STORE_RULES: &[StoreRule] = &[
    StoreRule {
        suffix: "test-delay",
        header: Some((TEST_HEADER, "delay")),
        fault: Some(Fault::Delay { ms: TEST_DELAY_MS }),
        target: StoreTarget::Subset(Subset::V1),
    },
    StoreRule {
        suffix: "test-abort",
        header: Some((TEST_HEADER, "abort")),
        fault: Some(Fault::Abort { status: 503 }),
        target: StoreTarget::Subset(Subset::V1),
    },
    StoreRule {
        suffix: "canary",
        header: Some((CHANNEL_HEADER, "canary")),
        fault: None,
        target: StoreTarget::Subset(Subset::V2),
    },
    StoreRule {
        suffix: "",
        header: None,
        fault: None,
        target: StoreTarget::Weighted,
    },
];

/// The percentage of untagged store traffic that goes to v2 when nothing says otherwise
/// (the base manifests; `sa-server dev --canary-weight`; the minikube overlay says 10).
pub const DEFAULT_CANARY_WEIGHT: u8 = 0;

/// The first store rule whose header matches; `header(name)` gives a request header's value.
pub fn store_rule<'a>(header: impl Fn(&str) -> Option<&'a str>) -> &'static StoreRule {
    STORE_RULES
        .iter()
        .find(|r| {
            r.header
                .is_none_or(|(name, value)| header(name) == Some(value))
        })
        .unwrap_or(&STORE_RULES[STORE_RULES.len() - 1])
}

/// The User-Agents the mobile route matches (an RE2 regex over the whole header, as Istio's
/// `StringMatch.regex`).
pub const MOBILE_USER_AGENT: &str = ".*(Mobile|Android|iPhone|iPad|iPod|Windows Phone).*";

/// One rule of the client host, first match wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRule {
    /// The VirtualService route name.
    pub name: &'static str,
    /// `None` matches every request.
    pub user_agent: Option<&'static str>,
    /// The DestinationRule subset of Service `client`.
    pub subset: &'static str,
    /// The layout that subset's `/config.json` says.
    pub layout: crate::config::Layout,
}

pub const CLIENT_RULES: &[ClientRule] = &[
    ClientRule {
        name: "mobile",
        user_agent: Some(MOBILE_USER_AGENT),
        subset: "mobile",
        layout: crate::config::Layout::Compact,
    },
    ClientRule {
        name: "standard",
        user_agent: None,
        subset: "standard",
        layout: crate::config::Layout::Standard,
    },
];

/// The Kubernetes Service behind a host that is not the store (the store's are in
/// `STORE_ROUTES`).
pub fn k8s_service(service: Service) -> &'static str {
    match service {
        Service::Client => "client",
        Service::Explorer => "explorer",
        Service::Auth => "auth",
        Service::Store => "store-file",
    }
}

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

    #[test]
    fn store_rules_match_in_order() {
        let none = |_: &str| None;
        assert_eq!(store_rule(none).target, StoreTarget::Weighted);
        let canary = |h: &str| (h == CHANNEL_HEADER).then_some("canary");
        assert_eq!(store_rule(canary).target, StoreTarget::Subset(Subset::V2));
        let other = |h: &str| (h == CHANNEL_HEADER).then_some("beta");
        assert_eq!(store_rule(other).target, StoreTarget::Weighted);
        // A tagged test request gets its fault even on the canary channel (first match wins).
        let both = |h: &str| match h {
            TEST_HEADER => Some("abort"),
            CHANNEL_HEADER => Some("canary"),
            _ => None,
        };
        assert_eq!(store_rule(both).fault, Some(Fault::Abort { status: 503 }));
        assert_eq!(
            STORE_RULES[0].route_name(&STORE_ROUTES[0]),
            "file-test-delay"
        );
        assert_eq!(STORE_RULES[3].route_name(&STORE_ROUTES[3]), "api");
    }
}
