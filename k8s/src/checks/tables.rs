//! The cluster's routing is the same table `sa-server dev` routes with
//! (`sa_shared::routes::{HOSTS, STORE_ROUTES}`), so local and cluster routing can't drift apart.
use std::collections::BTreeSet;

use sa_shared::routes::{Service, HOSTS, STORE_ROUTES};
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
