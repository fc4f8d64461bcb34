//! JWT at the sidecar, who may do what, and mTLS.
use std::collections::BTreeSet;

use serde_json::Value;

use crate::manifests::{array, describe, namespace, string_map, Manifests, WORKLOAD_NS};

/// Where the auth service publishes its keys (DESIGN.md "Tokens and auth").
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Paths that answer without a token.
pub const OPEN_PATHS: &[&str] = &["/healthz", "/readyz"];
const WRITE_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];
const ROLES_CLAIM: &str = "request.auth.claims[roles]";

fn policies(m: &Manifests) -> Vec<&Value> {
    m.of_kind("RequestAuthentication")
        .chain(m.of_kind("AuthorizationPolicy"))
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    array(v).iter().filter_map(Value::as_str).collect()
}

/// RequestAuthentication and AuthorizationPolicy apply to exactly the store pods.
pub fn auth_policies_select_store_pods(m: &Manifests) -> Vec<String> {
    let store: BTreeSet<String> = m
        .store_pods()
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    let mut problems = Vec::new();
    if store.is_empty() {
        problems.push("no store pods behind the Services of STORE_ROUTES".to_string());
    }
    for kind in ["RequestAuthentication", "AuthorizationPolicy"] {
        if m.of_kind(kind).next().is_none() {
            problems.push(format!("no {kind} in the render"));
        }
    }
    for p in policies(m) {
        let selector = string_map(&p["spec"]["selector"]["matchLabels"]);
        if selector.is_empty() {
            problems.push(format!(
                "{} has no workload selector, so it applies to the whole namespace",
                describe(p)
            ));
            continue;
        }
        let selected: BTreeSet<String> = m
            .pods_selected(namespace(p), &selector)
            .iter()
            .map(|q| format!("{}/{}", q.namespace, q.name))
            .collect();
        if selected != store {
            problems.push(format!(
                "{} selects {selected:?}; the store pods are {store:?}",
                describe(p)
            ));
        }
    }
    problems
}

/// The containers of the pods that run `sa-server ROLE`.
fn role_containers<'a>(m: &'a Manifests, role: &str) -> Vec<(&'a str, &'a str, &'a Value)> {
    m.pod_templates()
        .into_iter()
        .flat_map(|p| {
            let (ns, name) = (p.namespace, p.name);
            array(&p.spec["containers"])
                .iter()
                .map(move |c| (ns, name, c))
        })
        .filter(|(_, _, c)| Manifests::role(c) == Some(role))
        .collect()
}

/// `jwksUri` is the auth Service's in-cluster JWKS: full service name, a port of that Service,
/// the JWKS path, and the same URL the store itself fetches.
pub fn jwks_uri_is_auth_service(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let auth_pods: BTreeSet<&str> = role_containers(m, "auth")
        .iter()
        .map(|(_, n, _)| *n)
        .collect();
    if auth_pods.is_empty() {
        problems.push("no pod runs `sa-server auth`".to_string());
    }
    let stores = role_containers(m, "store");
    for ra in m.of_kind("RequestAuthentication") {
        let rules = array(&ra["spec"]["jwtRules"]);
        if rules.is_empty() {
            problems.push(format!("{} has no jwtRules", describe(ra)));
        }
        for rule in rules {
            if rule["jwks"].is_string() {
                problems.push(format!(
                    "{}: inline jwks would miss key rotations; use jwksUri",
                    describe(ra)
                ));
            }
            let uri = rule["jwksUri"].as_str().unwrap_or("");
            let Some(rest) = uri
                .strip_prefix("http://")
                .or_else(|| uri.strip_prefix("https://"))
            else {
                problems.push(format!(
                    "{}: jwksUri {uri:?} is not an http(s) URL",
                    describe(ra)
                ));
                continue;
            };
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let path = format!("/{path}");
            let (host, port) = authority
                .rsplit_once(':')
                .map_or((authority, None), |(h, p)| (h, p.parse::<u64>().ok()));
            if !host.ends_with(".svc.cluster.local") {
                problems.push(format!(
                    "{}: jwksUri host {host} is not a full in-cluster Service name (<svc>.<ns>.svc.cluster.local)",
                    describe(ra)
                ));
            }
            match m.resolve_host(host, namespace(ra)) {
                None => problems.push(format!(
                    "{}: jwksUri host {host} is no Service in the render",
                    describe(ra)
                )),
                Some(svc) => {
                    let backs_auth = m
                        .pods_selected(svc.namespace, &svc.selector)
                        .iter()
                        .any(|p| auth_pods.contains(p.name));
                    if !backs_auth {
                        problems.push(format!(
                            "{}: jwksUri Service {}/{} does not front the auth pods",
                            describe(ra),
                            svc.namespace,
                            svc.name
                        ));
                    }
                    match port {
                        Some(p) if svc.ports.contains(&p) => {}
                        _ => problems.push(format!(
                            "{}: jwksUri must name a port of Service {}/{} explicitly (ports {:?})",
                            describe(ra),
                            svc.namespace,
                            svc.name,
                            svc.ports
                        )),
                    }
                }
            }
            if path != JWKS_PATH {
                problems.push(format!(
                    "{}: jwksUri path {path} is not {JWKS_PATH}",
                    describe(ra)
                ));
            }
            for (ns, pod, c) in &stores {
                let store_jwks = m.flag(ns, c, "--jwks-url", "SA_JWKS_URL");
                if store_jwks.as_deref() != Some(uri) {
                    problems.push(format!(
                        "store {pod} fetches keys from {store_jwks:?}, the mesh from {uri}"
                    ));
                }
            }
        }
    }
    problems
}

/// Issuer = the auth service's public URL (as auth and the store are told), audience `sa`,
/// tokens from `Authorization: Bearer` and `?access_token=`, and the token forwarded.
pub fn request_authentication_rules(m: &Manifests) -> Vec<String> {
    let Some((domain, scheme)) = m.public() else {
        return vec![
            "ConfigMap sa/sa-public with SA_DOMAIN and SA_PUBLIC_SCHEME is missing".into(),
        ];
    };
    let issuer = format!("{scheme}://auth.{domain}");
    let mut problems = Vec::new();
    for (role, flag, env) in [
        ("auth", "--issuer", "SA_ISSUER"),
        ("store", "--issuer", "SA_ISSUER"),
        ("store", "--audience", "SA_AUDIENCE"),
    ] {
        let want = if flag == "--audience" {
            sa_shared::auth::AUDIENCE.to_string()
        } else {
            issuer.clone()
        };
        for (ns, pod, c) in role_containers(m, role) {
            let got = m.flag(ns, c, flag, env);
            if got.as_deref() != Some(want.as_str()) {
                problems.push(format!("{role} {pod}: {flag} is {got:?}, expected {want}"));
            }
        }
    }
    for ra in m.of_kind("RequestAuthentication") {
        for rule in array(&ra["spec"]["jwtRules"]) {
            let id = describe(ra);
            if rule["issuer"] != issuer.as_str() {
                problems.push(format!("{id}: issuer {} is not {issuer}", rule["issuer"]));
            }
            if strings(&rule["audiences"]) != [sa_shared::auth::AUDIENCE] {
                problems.push(format!(
                    "{id}: audiences {} are not [{}]",
                    rule["audiences"],
                    sa_shared::auth::AUDIENCE
                ));
            }
            let bearer = array(&rule["fromHeaders"])
                .iter()
                .any(|h| h["name"] == "Authorization" && h["prefix"] == "Bearer ");
            if !bearer {
                problems.push(format!(
                    "{id}: does not read `Authorization: Bearer <token>`"
                ));
            }
            if !strings(&rule["fromParams"]).contains(&"access_token") {
                problems.push(format!("{id}: does not read ?access_token= (share links)"));
            }
            if rule["forwardOriginalToken"] != true {
                problems
                    .push(format!("{id}: forwardOriginalToken is not true, so the store can't check the token itself"));
            }
        }
    }
    problems
}

fn rule_methods(rule: &Value) -> Option<BTreeSet<&str>> {
    // None = every method.
    let ops: Vec<&Value> = array(&rule["to"]).iter().map(|t| &t["operation"]).collect();
    if ops.is_empty() || ops.iter().any(|o| array(&o["methods"]).is_empty()) {
        return None;
    }
    Some(ops.iter().flat_map(|o| strings(&o["methods"])).collect())
}

fn rule_paths(rule: &Value) -> Option<BTreeSet<&str>> {
    let ops: Vec<&Value> = array(&rule["to"]).iter().map(|t| &t["operation"]).collect();
    if ops.is_empty() || ops.iter().any(|o| array(&o["paths"]).is_empty()) {
        return None;
    }
    Some(ops.iter().flat_map(|o| strings(&o["paths"])).collect())
}

fn needs_principal(rule: &Value) -> bool {
    let froms = array(&rule["from"]);
    !froms.is_empty()
        && froms
            .iter()
            .all(|f| !array(&f["source"]["requestPrincipals"]).is_empty())
}

fn roles_required(rule: &Value) -> Option<BTreeSet<&str>> {
    array(&rule["when"])
        .iter()
        .find(|w| w["key"] == ROLES_CLAIM)
        .map(|w| strings(&w["values"]).into_iter().collect())
}

/// Health endpoints (and CORS preflights) open; GET needs a valid token; writes need the
/// writer (or admin) role claim. Nothing else gets through.
pub fn authorization_rules(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let aps: Vec<&Value> = m
        .of_kind("AuthorizationPolicy")
        .filter(|ap| namespace(ap) == WORKLOAD_NS)
        .collect();
    if aps.is_empty() {
        problems.push("no AuthorizationPolicy for the store".to_string());
    }
    let allowed_roles: BTreeSet<&str> = ["writer", "admin"].into();
    for ap in aps {
        let id = describe(ap);
        if !matches!(ap["spec"]["action"].as_str(), None | Some("ALLOW")) {
            continue;
        }
        let rules = array(&ap["spec"]["rules"]);
        let mut open_health = false;
        let mut read = false;
        let mut writes: BTreeSet<&str> = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let methods = rule_methods(rule);
            let principal = needs_principal(rule);
            let writes_here: Vec<&str> = match &methods {
                None => WRITE_METHODS.to_vec(),
                Some(ms) => WRITE_METHODS
                    .iter()
                    .copied()
                    .filter(|w| ms.contains(w))
                    .collect(),
            };
            if !principal {
                // Without a token: only OPTIONS anywhere, GET/HEAD on the health paths.
                let ok = match (&methods, rule_paths(rule)) {
                    (Some(ms), _) if ms.iter().all(|x| *x == "OPTIONS") => true,
                    (Some(ms), Some(ps)) if ms.iter().all(|x| ["GET", "HEAD"].contains(x)) => {
                        ps.iter().all(|p| OPEN_PATHS.contains(p))
                    }
                    _ => false,
                };
                if !ok {
                    problems.push(format!(
                        "{id} rules[{i}] lets requests without a token through beyond health checks and preflights"
                    ));
                }
                if methods.as_ref().is_some_and(|ms| ms.contains("GET"))
                    && rule_paths(rule).is_some_and(|ps| OPEN_PATHS.iter().all(|p| ps.contains(p)))
                {
                    open_health = true;
                }
                continue;
            }
            if !writes_here.is_empty() {
                match roles_required(rule) {
                    Some(roles) if !roles.is_empty() && roles.is_subset(&allowed_roles) => writes.extend(writes_here),
                    _ => problems.push(format!(
                        "{id} rules[{i}] allows {writes_here:?} without requiring {ROLES_CLAIM} in {allowed_roles:?}"
                    )),
                }
            }
            if methods.as_ref().is_none_or(|ms| ms.contains("GET"))
                && roles_required(rule).is_none()
            {
                read = true;
            }
        }
        if !open_health {
            problems.push(format!("{id}: /healthz and /readyz are not open"));
        }
        if !read {
            problems.push(format!("{id}: no rule lets a valid token GET"));
        }
        for w in ["POST", "PUT", "DELETE"] {
            if !writes.contains(w) {
                problems.push(format!("{id}: writers can't {w}"));
            }
        }
    }
    problems
}

/// Identity comes from tokens and mTLS, never from addresses: behind the gateway every request's
/// source is the gateway pod.
pub fn no_source_ip_rules(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for ap in m.of_kind("AuthorizationPolicy") {
        for (i, rule) in array(&ap["spec"]["rules"]).iter().enumerate() {
            for f in array(&rule["from"]) {
                for key in [
                    "ipBlocks",
                    "notIpBlocks",
                    "remoteIpBlocks",
                    "notRemoteIpBlocks",
                ] {
                    if !f["source"][key].is_null() {
                        problems.push(format!(
                            "{} rules[{i}] matches on source.{key}",
                            describe(ap)
                        ));
                    }
                }
            }
            for w in array(&rule["when"]) {
                let key = w["key"].as_str().unwrap_or("");
                if key.ends_with(".ip") {
                    problems.push(format!(
                        "{} rules[{i}] has a condition on {key}",
                        describe(ap)
                    ));
                }
            }
        }
    }
    problems
}

/// Namespace `sa` is STRICT mTLS and nothing in the render relaxes it.
pub fn peer_authentication_strict(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let ns_wide = m.of_kind("PeerAuthentication").any(|pa| {
        namespace(pa) == WORKLOAD_NS
            && pa["spec"]["selector"].is_null()
            && pa["spec"]["mtls"]["mode"] == "STRICT"
    });
    if !ns_wide {
        problems.push(format!(
            "no namespace-wide PeerAuthentication with mtls STRICT in {WORKLOAD_NS}"
        ));
    }
    for pa in m.of_kind("PeerAuthentication") {
        let mut modes = vec![&pa["spec"]["mtls"]["mode"]];
        if let Some(ports) = pa["spec"]["portLevelMtls"].as_object() {
            modes.extend(ports.values().map(|p| &p["mode"]));
        }
        for mode in modes {
            if !mode.is_null() && *mode != "STRICT" && *mode != "UNSET" {
                problems.push(format!("{} relaxes mTLS to {mode}", describe(pa)));
            }
        }
    }
    problems
}
