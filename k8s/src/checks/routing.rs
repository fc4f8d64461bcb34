//! VirtualService routes, their destinations and the DestinationRule subsets.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::manifests::{array, describe, namespace, string_map, Manifests, ServiceRef};

/// `x-sa-test` (faults) and `x-sa-channel` (canary) come from the table `sa-server dev` uses.
pub use sa_shared::routes::{CHANNEL_HEADER, TEST_HEADER};

pub fn http_routes(vs: &Value) -> &[Value] {
    array(&vs["spec"]["http"])
}

/// The destinations a route sends to, mirrors included.
pub fn destinations(route: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = array(&route["route"])
        .iter()
        .map(|r| &r["destination"])
        .collect();
    if route["mirror"].is_object() {
        out.push(&route["mirror"]);
    }
    out.extend(array(&route["mirrors"]).iter().map(|m| &m["destination"]));
    out
}

/// The VirtualService bound to a host's Gateway (`HOSTS[..].gateway`).
pub fn vs_for_gateway<'a>(m: &'a Manifests, gateway: &str) -> Vec<&'a Value> {
    m.of_kind("VirtualService")
        .filter(|vs| {
            super::hosts::vs_gateway_refs(vs)
                .iter()
                .any(|g| g == gateway)
        })
        .collect()
}

fn gateway_of(service: sa_shared::routes::Service) -> &'static str {
    sa_shared::routes::HOSTS
        .iter()
        .find(|h| h.service == service)
        .map(|h| h.gateway)
        .unwrap_or("")
}

/// Every destination host and port is a Service (and port) in the render.
pub fn destinations_resolve(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        for (i, route) in http_routes(vs).iter().enumerate() {
            let dests = destinations(route);
            let terminal = route["redirect"].is_object()
                || route["directResponse"].is_object()
                || route["delegate"].is_object();
            if dests.is_empty() && !terminal {
                problems.push(format!("{} http[{i}] routes nowhere", describe(vs)));
            }
            for d in dests {
                let host = d["host"].as_str().unwrap_or("");
                match m.resolve_host(host, namespace(vs)) {
                    None => problems.push(format!(
                        "{} http[{i}]: host {host:?} is no Service in the render",
                        describe(vs)
                    )),
                    Some(svc) => {
                        if let Some(p) = port_problem(&svc, &d["port"]["number"]) {
                            problems.push(format!("{} http[{i}] -> {host}: {p}", describe(vs)));
                        }
                    }
                }
            }
        }
    }
    for dr in m.of_kind("DestinationRule") {
        let host = dr["spec"]["host"].as_str().unwrap_or("");
        if m.resolve_host(host, namespace(dr)).is_none() {
            problems.push(format!(
                "{}: host {host:?} is no Service in the render",
                describe(dr)
            ));
        }
    }
    problems
}

fn port_problem(svc: &ServiceRef<'_>, port: &Value) -> Option<String> {
    match port.as_u64() {
        Some(p) if svc.ports.contains(&p) => None,
        Some(p) => Some(format!(
            "port {p} is not a port of Service {}/{} ({:?})",
            svc.namespace, svc.name, svc.ports
        )),
        None if svc.ports.len() == 1 => None,
        None => Some(format!(
            "no port given and Service {}/{} has {} ports",
            svc.namespace,
            svc.name,
            svc.ports.len()
        )),
    }
}

/// Every subset a route names is declared by a DestinationRule for that Service, and every
/// declared subset selects the pods of at least one Deployment (or StatefulSet) behind it.
pub fn subsets_exist_and_match_pods(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    // (service ns, service name) -> subset name -> labels
    let mut declared: BTreeMap<(String, String), BTreeMap<String, BTreeMap<String, String>>> =
        BTreeMap::new();
    for dr in m.of_kind("DestinationRule") {
        let host = dr["spec"]["host"].as_str().unwrap_or("");
        let Some(svc) = m.resolve_host(host, namespace(dr)) else {
            continue;
        };
        for s in array(&dr["spec"]["subsets"]) {
            let sub = s["name"].as_str().unwrap_or("").to_string();
            let labels = string_map(&s["labels"]);
            let mut selector = svc.selector.clone();
            selector.extend(labels.clone());
            if labels.is_empty() {
                problems.push(format!("{}: subset {sub} has no labels", describe(dr)));
            } else if m.pods_selected(svc.namespace, &selector).is_empty() {
                problems.push(format!(
                    "{}: subset {sub} ({labels:?}) matches no pod template behind Service {}/{}",
                    describe(dr),
                    svc.namespace,
                    svc.name
                ));
            }
            declared
                .entry((svc.namespace.to_string(), svc.name.to_string()))
                .or_default()
                .insert(sub, labels);
        }
    }
    for vs in m.of_kind("VirtualService") {
        for (i, route) in http_routes(vs).iter().enumerate() {
            for d in destinations(route) {
                let Some(subset) = d["subset"].as_str() else {
                    continue;
                };
                let host = d["host"].as_str().unwrap_or("");
                let Some(svc) = m.resolve_host(host, namespace(vs)) else {
                    continue;
                };
                let key = (svc.namespace.to_string(), svc.name.to_string());
                if !declared.get(&key).is_some_and(|s| s.contains_key(subset)) {
                    problems.push(format!(
                        "{} http[{i}]: subset {subset} of {host} is declared by no DestinationRule",
                        describe(vs)
                    ));
                }
            }
        }
    }
    problems
}

/// Weighted destinations add up to 100.
pub fn weights_sum_to_100(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        for (i, route) in http_routes(vs).iter().enumerate() {
            let ws: Vec<Option<u64>> = array(&route["route"])
                .iter()
                .map(|r| r["weight"].as_u64())
                .collect();
            let ok = match ws.as_slice() {
                [] => true,
                [w] => w.is_none() || *w == Some(100),
                many => {
                    many.iter().all(Option::is_some) && many.iter().flatten().sum::<u64>() == 100
                }
            };
            if !ok {
                problems.push(format!(
                    "{} http[{i}]: weights {ws:?} do not add up to 100",
                    describe(vs)
                ));
            }
        }
    }
    problems
}

/// Whether every match block of a route requires header `name`.
fn every_match_has_header(route: &Value, name: &str) -> bool {
    let matches = array(&route["match"]);
    !matches.is_empty() && matches.iter().all(|mb| mb["headers"][name].is_object())
}

/// Injected faults only hit requests tagged with `x-sa-test`.
pub fn faults_only_for_tagged_requests(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        for (i, route) in http_routes(vs).iter().enumerate() {
            if route["fault"].is_object() && !every_match_has_header(route, TEST_HEADER) {
                problems.push(format!(
                    "{} http[{i}] injects faults into requests without the {TEST_HEADER} header",
                    describe(vs)
                ));
            }
        }
    }
    problems
}

fn matches_prefix(route: &Value, prefix: &str) -> bool {
    array(&route["match"])
        .iter()
        .any(|mb| mb["uri"]["prefix"] == prefix)
}

fn has_headers(route: &Value) -> bool {
    array(&route["match"])
        .iter()
        .any(|mb| mb["headers"].as_object().is_some_and(|h| !h.is_empty()))
}

fn subsets(route: &Value) -> Vec<&str> {
    array(&route["route"])
        .iter()
        .filter_map(|r| r["destination"]["subset"].as_str())
        .collect()
}

/// On every store prefix: `x-sa-test` gets a delay and an abort, `x-sa-channel: canary` goes to
/// v2, and everything else is a v1/v2 weighted route placed after those (first match wins).
pub fn store_feature_routes(m: &Manifests) -> Vec<String> {
    let store_gw = gateway_of(sa_shared::routes::Service::Store);
    let vss = vs_for_gateway(m, store_gw);
    let [vs] = vss.as_slice() else {
        return vec![format!(
            "expected one VirtualService on Gateway {store_gw}, found {}",
            vss.len()
        )];
    };
    let routes = http_routes(vs);
    let mut problems = Vec::new();
    for r in sa_shared::routes::STORE_ROUTES {
        let p = r.prefix;
        let at =
            |f: &dyn Fn(&Value) -> bool| routes.iter().position(|x| matches_prefix(x, p) && f(x));
        let delay =
            at(&|x| every_match_has_header(x, TEST_HEADER) && x["fault"]["delay"].is_object());
        let abort =
            at(&|x| every_match_has_header(x, TEST_HEADER) && x["fault"]["abort"].is_object());
        let canary = at(&|x| {
            array(&x["match"])
                .iter()
                .all(|mb| mb["headers"][CHANNEL_HEADER]["exact"] == "canary")
                && !subsets(x).is_empty()
                && subsets(x).iter().all(|s| *s == "v2")
        });
        let default = at(&|x| !has_headers(x));
        for (what, pos) in [
            ("a delay fault", delay),
            ("an abort fault", abort),
            ("a canary route to v2", canary),
        ] {
            match (pos, default) {
                (None, _) => problems.push(format!("{}: prefix {p} has no {what}", describe(vs))),
                (Some(a), Some(d)) if a > d => problems.push(format!(
                    "{}: prefix {p}: {what} comes after the catch-all route",
                    describe(vs)
                )),
                _ => {}
            }
        }
        match default {
            None => problems.push(format!(
                "{}: prefix {p} has no untagged route",
                describe(vs)
            )),
            Some(d) => {
                let mut s = subsets(&routes[d]);
                s.sort_unstable();
                if s != ["v1", "v2"] {
                    problems.push(format!(
                        "{}: prefix {p}: the untagged route splits over {s:?}, not v1/v2",
                        describe(vs)
                    ));
                }
            }
        }
    }
    problems
}

/// Mobile User-Agents reach subset `mobile`, whose pods serve `layout: compact`; the rest reach
/// pods that serve the standard layout.
pub fn mobile_subset_is_compact(m: &Manifests) -> Vec<String> {
    let client_gw = gateway_of(sa_shared::routes::Service::Client);
    let vss = vs_for_gateway(m, client_gw);
    let [vs] = vss.as_slice() else {
        return vec![format!(
            "expected one VirtualService on Gateway {client_gw}, found {}",
            vss.len()
        )];
    };
    let mut problems = Vec::new();
    let routes = http_routes(vs);
    let mobile = routes
        .iter()
        .position(|r| every_match_has_header(r, "user-agent") && subsets(r) == ["mobile"]);
    if mobile.is_none() {
        problems.push(format!(
            "{}: no route sends a user-agent match to subset mobile",
            describe(vs)
        ));
    }
    // Which layout each subset's pods serve.
    for (i, route) in routes.iter().enumerate() {
        for d in destinations(route) {
            let Some(subset) = d["subset"].as_str() else {
                continue;
            };
            let Some(svc) = m.resolve_host(d["host"].as_str().unwrap_or(""), namespace(vs)) else {
                continue;
            };
            let Some(labels) = subset_labels(m, &svc, subset) else {
                continue;
            };
            let mut selector = svc.selector.clone();
            selector.extend(labels);
            let want = if Some(i) == mobile {
                "compact"
            } else {
                "standard"
            };
            for pod in m.pods_selected(svc.namespace, &selector) {
                for c in pod.containers() {
                    let layout = m
                        .flag(pod.namespace, c, "--layout", "SA_LAYOUT")
                        .unwrap_or_else(|| "standard".into());
                    if layout != want {
                        problems.push(format!(
                            "{} http[{i}] subset {subset}: {} {} serves layout {layout}, expected {want}",
                            describe(vs),
                            pod.kind,
                            pod.name
                        ));
                    }
                }
            }
        }
    }
    problems
}

fn subset_labels(
    m: &Manifests,
    svc: &ServiceRef<'_>,
    subset: &str,
) -> Option<BTreeMap<String, String>> {
    m.of_kind("DestinationRule")
        .filter(|dr| {
            m.resolve_host(dr["spec"]["host"].as_str().unwrap_or(""), namespace(dr))
                .is_some_and(|s| s.name == svc.name && s.namespace == svc.namespace)
        })
        .flat_map(|dr| array(&dr["spec"]["subsets"]))
        .find(|s| s["name"] == subset)
        .map(|s| string_map(&s["labels"]))
}

/// Every `regex` StringMatch in a VirtualService is valid RE2 (Envoy's engine; the `regex` crate
/// has the same syntax: no look-around, no back-references). A bad one makes istiod reject or
/// drop the route at run time, which no schema can see.
pub fn regexes_are_re2(m: &Manifests) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    match (k.as_str(), x) {
                        ("regex", Value::String(r)) => out.push((path.to_string(), r.clone())),
                        _ => walk(x, &format!("{path}.{k}"), out),
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        let mut found = Vec::new();
        walk(&vs["spec"], "spec", &mut found);
        for (path, re) in found {
            if let Err(e) = regex::Regex::new(&re) {
                problems.push(format!(
                    "{} {path}: regex {re:?} is not RE2: {e}",
                    describe(vs)
                ));
            }
        }
    }
    problems
}

/// The store's change feed (`/api/changes`) is a stream that stays open for hours, with a
/// comment line every 15 s. No store route may cut it with a route timeout, and each store
/// DestinationRule keeps idle upstream connections open well past the keep-alive.
pub fn store_routes_allow_streams(m: &Manifests) -> Vec<String> {
    const KEEP_ALIVE_SECS: u64 = 15;
    let mut problems = Vec::new();
    for vs in vs_for_gateway(m, gateway_of(sa_shared::routes::Service::Store)) {
        for route in http_routes(vs) {
            let name = route["name"].as_str().unwrap_or("?");
            match route
                .get("timeout")
                .map(|t| t.as_str().and_then(duration_secs))
            {
                None | Some(Some(0)) => {}
                Some(_) => problems.push(format!(
                    "{} route {name}: timeout {} would cut the change feed; leave it out or use 0s",
                    describe(vs),
                    route["timeout"]
                )),
            }
        }
    }
    for dr in m.of_kind("DestinationRule") {
        let host = dr["spec"]["host"].as_str().unwrap_or("");
        if !host.starts_with("store-") {
            continue;
        }
        let idle = &dr["spec"]["trafficPolicy"]["connectionPool"]["http"]["idleTimeout"];
        match idle.as_str().and_then(duration_secs) {
            Some(s) if s > KEEP_ALIVE_SECS => {}
            _ => problems.push(format!(
                "{}: trafficPolicy.connectionPool.http.idleTimeout must be above the feed's {KEEP_ALIVE_SECS} s keep-alive (found {idle})",
                describe(dr)
            )),
        }
    }
    problems
}

/// `90s`, `15m`, `1h`, `1.5s` (Istio's duration format) in whole seconds.
fn duration_secs(s: &str) -> Option<u64> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some((n * scale) as u64)
}

/// Every destination answers with `x-sa-upstream: {Service}[ {subset}]`, as `sa-server dev`
/// does, so a client can see on the cluster where a request went.
pub fn destinations_say_their_upstream(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        for (i, route) in http_routes(vs).iter().enumerate() {
            for r in array(&route["route"]) {
                let d = &r["destination"];
                let host = d["host"].as_str().unwrap_or("");
                let Some(svc) = m.resolve_host(host, namespace(vs)) else {
                    continue;
                };
                let want = sa_shared::routes::upstream(svc.name, d["subset"].as_str());
                let got = &r["headers"]["response"]["set"][sa_shared::routes::UPSTREAM_HEADER];
                if *got != want.as_str() {
                    problems.push(format!(
                        "{} http[{i}] -> {host}: response header {} is {got}, expected {want:?}",
                        describe(vs),
                        sa_shared::routes::UPSTREAM_HEADER
                    ));
                }
            }
        }
    }
    problems
}

/// Each store pod reports its own `version` label as the subset of `/api/info` (`SA_SUBSET`
/// from the downward API), so the answer names the subset that served it.
pub fn store_subset_is_version_label(m: &Manifests) -> Vec<String> {
    let want = "metadata.labels['version']";
    let mut problems = Vec::new();
    for pod in m.store_pods() {
        if !pod.labels.contains_key("version") {
            problems.push(format!("{} {}: no version label", pod.kind, pod.name));
        }
        for c in pod.containers() {
            let from = array(&c["env"])
                .iter()
                .find(|e| e["name"] == "SA_SUBSET")
                .map(|e| &e["valueFrom"]["fieldRef"]["fieldPath"]);
            let by_arg = array(&c["args"])
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.starts_with("--subset")));
            if by_arg || from.is_none_or(|f| *f != want) {
                problems.push(format!(
                    "{} {}: SA_SUBSET must come from fieldRef {want} (found {:?}{})",
                    pod.kind,
                    pod.name,
                    from,
                    if by_arg { ", and a --subset arg" } else { "" }
                ));
            }
        }
    }
    problems
}
