//! The cluster's routing is the same table `sa-server dev` routes with
//! (`sa_shared::routes::{HOSTS, STORE_ROUTES}`), so local and cluster routing can't drift apart.
use std::collections::BTreeSet;

use sa_shared::routes::{
    upstream, Fault, Service, StoreTarget, Subset, CLIENT_RULES, FAULT_HEADER, HOSTS, STORE_ROUTES,
    STORE_RULES, UPSTREAM_HEADER,
};
use serde_json::Value;

use super::hosts::{gateway_hosts, gateway_id, vs_gateway_refs};
use super::routing::{destinations, http_routes, vs_for_gateway};
use crate::manifests::{array, describe, namespace, Manifests};

const FORWARDED_PREFIX: &str = "x-forwarded-prefix";

/// One row of the store table as the VirtualService says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedStoreRoute {
    pub prefix: String,
    pub strip_prefix: bool,
    pub k8s_service: String,
}

/// The store VirtualService's routes as (prefix, stripped?, Service), in first-match order,
/// plus the problems met while reading them.
pub fn rendered_store_routes(m: &Manifests) -> (Vec<RenderedStoreRoute>, Vec<String>) {
    let gw = HOSTS
        .iter()
        .find(|h| h.service == Service::Store)
        .map(|h| h.gateway)
        .unwrap_or("");
    let vss = vs_for_gateway(m, gw);
    let [vs] = vss.as_slice() else {
        return (
            vec![],
            vec![format!(
                "expected one VirtualService on Gateway {gw}, found {}",
                vss.len()
            )],
        );
    };
    let mut rows: Vec<RenderedStoreRoute> = Vec::new();
    let mut problems = Vec::new();
    for (i, route) in http_routes(vs).iter().enumerate() {
        let id = format!("{} http[{i}]", describe(vs));
        let strip = match &route["rewrite"] {
            Value::Null => false,
            rw if rw["uri"] == "/" && rw.as_object().is_some_and(|o| o.len() == 1) => true,
            rw => {
                problems.push(format!(
                    "{id}: rewrite {rw} is neither none nor a prefix strip to /"
                ));
                false
            }
        };
        let services: BTreeSet<String> = destinations(route)
            .iter()
            .filter_map(|d| m.resolve_host(d["host"].as_str().unwrap_or(""), namespace(vs)))
            .map(|s| s.name.to_string())
            .collect();
        let [service] = services.iter().collect::<Vec<_>>()[..] else {
            problems.push(format!(
                "{id}: goes to {services:?}, expected one store Service"
            ));
            continue;
        };
        let set = &route["headers"]["request"]["set"][FORWARDED_PREFIX];
        let removed = array(&route["headers"]["request"]["remove"])
            .iter()
            .any(|h| h == FORWARDED_PREFIX);
        let matches = array(&route["match"]);
        if matches.is_empty() {
            problems.push(format!(
                "{id}: matches every path; each store route needs a path prefix"
            ));
        }
        for mb in matches {
            let Some(prefix) = mb["uri"]["prefix"].as_str() else {
                problems.push(format!("{id}: a match without a uri prefix"));
                continue;
            };
            if strip && set != prefix.trim_end_matches('/') {
                problems.push(format!(
                    "{id}: strips {prefix} but sets {FORWARDED_PREFIX} to {set}, not {}",
                    prefix.trim_end_matches('/')
                ));
            }
            if !strip && !removed {
                problems.push(format!(
                    "{id}: keeps {prefix} but lets a client's {FORWARDED_PREFIX} through"
                ));
            }
            let row = RenderedStoreRoute {
                prefix: prefix.to_string(),
                strip_prefix: strip,
                k8s_service: service.clone(),
            };
            match rows.iter().find(|r| r.prefix == prefix) {
                Some(r) if *r != row => problems.push(format!(
                    "{id}: {row:?} disagrees with an earlier route {r:?}"
                )),
                Some(_) => {}
                None => rows.push(row),
            }
        }
    }
    (rows, problems)
}

/// The store VirtualService routes exactly `STORE_ROUTES`: same prefixes, in the same order,
/// stripped the same way, to the same Services.
pub fn store_routes_match_table(m: &Manifests) -> Vec<String> {
    let (rows, mut problems) = rendered_store_routes(m);
    let want: Vec<RenderedStoreRoute> = STORE_ROUTES
        .iter()
        .map(|r| RenderedStoreRoute {
            prefix: r.prefix.into(),
            strip_prefix: r.strip_prefix,
            k8s_service: r.k8s_service.into(),
        })
        .collect();
    if rows != want {
        problems.push(format!(
            "the store VirtualService routes\n  {rows:?}\nbut sa_shared::routes::STORE_ROUTES (what `sa-server dev` routes) is\n  {want:?}"
        ));
    }
    problems
}

fn services_of(service: Service) -> BTreeSet<String> {
    match service {
        Service::Client => ["client".to_string()].into(),
        Service::Explorer => ["explorer".to_string()].into(),
        Service::Auth => ["auth".to_string()].into(),
        Service::Store => STORE_ROUTES
            .iter()
            .map(|r| r.k8s_service.to_string())
            .collect(),
    }
}

/// Each host of `HOSTS` has exactly its Gateway (`namespace/name`) and one VirtualService bound
/// to it that goes to that part's Services; no other host is served.
pub fn hosts_match_table(m: &Manifests) -> Vec<String> {
    let Some((domain, _)) = m.public() else {
        return vec!["ConfigMap sa/sa-public with SA_DOMAIN is missing".into()];
    };
    let mut problems = Vec::new();
    let mut known = BTreeSet::new();
    for h in HOSTS {
        let host = format!("{}.{domain}", h.sub);
        known.insert(host.clone());
        let gws: Vec<String> = m
            .of_kind("Gateway")
            .filter(|g| gateway_hosts(g).contains(&host))
            .map(gateway_id)
            .collect();
        if gws != [h.gateway] {
            problems.push(format!(
                "host {host}: Gateways {gws:?}, the table says [{}]",
                h.gateway
            ));
        }
        let vss: Vec<&Value> = m
            .of_kind("VirtualService")
            .filter(|vs| {
                array(&vs["spec"]["hosts"])
                    .iter()
                    .any(|x| *x == host.as_str())
            })
            .collect();
        let [vs] = vss.as_slice() else {
            problems.push(format!(
                "host {host}: {} VirtualServices, expected one",
                vss.len()
            ));
            continue;
        };
        if vs_gateway_refs(vs) != [h.gateway] {
            problems.push(format!(
                "{}: bound to {:?}, the table says [{}]",
                describe(vs),
                vs_gateway_refs(vs),
                h.gateway
            ));
        }
        let services: BTreeSet<String> = http_routes(vs)
            .iter()
            .flat_map(destinations)
            .filter_map(|d| m.resolve_host(d["host"].as_str().unwrap_or(""), namespace(vs)))
            .map(|s| s.name.to_string())
            .collect();
        if services != services_of(h.service) {
            problems.push(format!(
                "{}: routes to {services:?}, expected {:?}",
                describe(vs),
                services_of(h.service)
            ));
        }
    }
    for g in m.of_kind("Gateway") {
        for host in gateway_hosts(g).difference(&known) {
            problems.push(format!(
                "{}: serves {host}, which is not in sa_shared::routes::HOSTS",
                describe(g)
            ));
        }
    }
    for vs in m.of_kind("VirtualService") {
        for host in array(&vs["spec"]["hosts"]).iter().filter_map(Value::as_str) {
            if !known.contains(host) {
                problems.push(format!(
                    "{}: host {host} is not in sa_shared::routes::HOSTS",
                    describe(vs)
                ));
            }
        }
    }
    problems
}

/// The untagged store traffic each overlay sends to v2, in percent (`sa-server dev
/// --canary-weight` is the local knob for the same rule).
pub fn canary_weight(overlay: &str) -> u8 {
    match overlay {
        // canary-split.yaml
        "minikube" => 10,
        _ => sa_shared::routes::DEFAULT_CANARY_WEIGHT,
    }
}

/// One routing rule as a VirtualService says it, in the terms of `sa_shared::routes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedRule {
    pub name: String,
    /// The uri prefix match, if any.
    pub prefix: Option<String>,
    /// Header matches as `name kind=value` (`x-sa-channel exact=canary`).
    pub headers: Vec<String>,
    /// `delay 2000ms 100%`, `abort 503 100%`.
    pub fault: Option<String>,
    /// The route's response `x-sa-fault`.
    pub fault_header: Option<String>,
    /// (Service, subset, weight, response `x-sa-upstream`) per destination.
    pub destinations: Vec<(String, String, u64, String)>,
}

fn millis(duration: &str) -> Option<u64> {
    if let Some(ms) = duration.strip_suffix("ms") {
        return ms.parse().ok();
    }
    let s: f64 = duration.strip_suffix('s')?.parse().ok()?;
    Some((s * 1000.0).round() as u64)
}

fn fault_text(fault: &Value) -> Option<String> {
    if !fault.is_object() {
        return None;
    }
    let pct = |f: &Value| match f["percentage"]["value"].as_f64() {
        Some(p) => format!("{p}%"),
        None => "unset%".into(),
    };
    let mut parts = Vec::new();
    let d = &fault["delay"];
    if d.is_object() {
        let ms = d["fixedDelay"].as_str().and_then(millis);
        parts.push(format!("delay {}ms {}", ms.unwrap_or(0), pct(d)));
    }
    let a = &fault["abort"];
    if a.is_object() {
        parts.push(format!("abort {} {}", a["httpStatus"], pct(a)));
    }
    Some(parts.join(", "))
}

fn rendered_rule(m: &Manifests, vs: &Value, route: &Value) -> RenderedRule {
    let matches = array(&route["match"]);
    let mut headers = Vec::new();
    let mut prefix = None;
    for mb in matches {
        if let Some(p) = mb["uri"]["prefix"].as_str() {
            prefix = Some(p.to_string());
        }
        if let Some(h) = mb["headers"].as_object() {
            for (name, how) in h {
                for (kind, value) in how.as_object().into_iter().flatten() {
                    headers.push(format!("{name} {kind}={}", value.as_str().unwrap_or("?")));
                }
            }
        }
    }
    headers.sort();
    let destinations = array(&route["route"])
        .iter()
        .map(|r| {
            let d = &r["destination"];
            let service = m
                .resolve_host(d["host"].as_str().unwrap_or(""), namespace(vs))
                .map(|s| s.name.to_string())
                .unwrap_or_else(|| format!("? {}", d["host"]));
            (
                service,
                d["subset"].as_str().unwrap_or("").to_string(),
                r["weight"].as_u64().unwrap_or(100),
                r["headers"]["response"]["set"][UPSTREAM_HEADER]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    RenderedRule {
        name: route["name"].as_str().unwrap_or("").to_string(),
        prefix,
        headers,
        fault: fault_text(&route["fault"]),
        fault_header: route["headers"]["response"]["set"][FAULT_HEADER]
            .as_str()
            .map(str::to_string),
        destinations,
    }
}

/// What `sa_shared::routes::{STORE_ROUTES, STORE_RULES}` say the store VirtualService holds, at
/// canary weight `weight`.
pub fn expected_store_rules(weight: u8) -> Vec<RenderedRule> {
    let w = u64::from(weight);
    let mut out = Vec::new();
    for r in STORE_ROUTES {
        for rule in STORE_RULES {
            let dest = |s: Subset, weight: u64| {
                (
                    r.k8s_service.to_string(),
                    s.as_str().to_string(),
                    weight,
                    upstream(r.k8s_service, Some(s.as_str())),
                )
            };
            let destinations = match rule.target {
                StoreTarget::Subset(s) => vec![dest(s, 100)],
                StoreTarget::Weighted => vec![dest(Subset::V1, 100 - w), dest(Subset::V2, w)],
            };
            out.push(RenderedRule {
                name: rule.route_name(r),
                prefix: Some(r.prefix.to_string()),
                headers: rule
                    .header
                    .iter()
                    .map(|(n, v)| format!("{n} exact={v}"))
                    .collect(),
                fault: rule.fault.map(|f| match f {
                    Fault::Delay { ms } => format!("delay {ms}ms 100%"),
                    Fault::Abort { status } => format!("abort {status} 100%"),
                }),
                fault_header: rule.fault.map(|f| f.name().to_string()),
                destinations,
            });
        }
    }
    out
}

/// What `sa_shared::routes::CLIENT_RULES` say the client VirtualService holds.
pub fn expected_client_rules() -> Vec<RenderedRule> {
    let svc = sa_shared::routes::k8s_service(Service::Client);
    CLIENT_RULES
        .iter()
        .map(|r| RenderedRule {
            name: r.name.to_string(),
            prefix: None,
            headers: r
                .user_agent
                .iter()
                .map(|re| format!("user-agent regex={re}"))
                .collect(),
            fault: None,
            fault_header: None,
            destinations: vec![(
                svc.to_string(),
                r.subset.to_string(),
                100,
                upstream(svc, Some(r.subset)),
            )],
        })
        .collect()
}

fn rules_on(m: &Manifests, service: Service) -> Result<Vec<RenderedRule>, String> {
    let gw = HOSTS
        .iter()
        .find(|h| h.service == service)
        .map(|h| h.gateway)
        .unwrap_or("");
    let vss = vs_for_gateway(m, gw);
    let [vs] = vss.as_slice() else {
        return Err(format!(
            "expected one VirtualService on Gateway {gw}, found {}",
            vss.len()
        ));
    };
    Ok(http_routes(vs)
        .iter()
        .map(|r| rendered_rule(m, vs, r))
        .collect())
}

fn compare(what: &str, got: &[RenderedRule], want: &[RenderedRule]) -> Vec<String> {
    let mut problems = Vec::new();
    for i in 0..got.len().max(want.len()) {
        match (got.get(i), want.get(i)) {
            (Some(g), Some(w)) if g == w => {}
            (g, w) => problems.push(format!(
                "{what} http[{i}] is\n  {g:?}\nbut sa_shared::routes (what `sa-server dev` routes by) says\n  {w:?}"
            )),
        }
    }
    problems
}

/// The store VirtualService holds exactly the rules of `STORE_ROUTES` x `STORE_RULES`, in
/// first-match order: the same header matches, faults, subsets, weights (the overlay's canary
/// weight) and `x-sa-upstream` / `x-sa-fault` answers.
pub fn store_rules_match_table(m: &Manifests) -> Vec<String> {
    match rules_on(m, Service::Store) {
        Err(e) => vec![e],
        Ok(got) => compare(
            "the store VirtualService",
            &got,
            &expected_store_rules(canary_weight(&m.overlay)),
        ),
    }
}

/// The client VirtualService holds exactly `CLIENT_RULES`: the mobile User-Agent regex to
/// subset mobile, everything else to standard.
pub fn client_rules_match_table(m: &Manifests) -> Vec<String> {
    match rules_on(m, Service::Client) {
        Err(e) => vec![e],
        Ok(got) => compare("the client VirtualService", &got, &expected_client_rules()),
    }
}
