//! Gateways and the hosts they serve.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::manifests::{array, describe, name, namespace};
use crate::Manifests;

/// Where the ingress gateway runs: TLS secrets named by `credentialName` must live here.
pub const INGRESS_NS: &str = "istio-system";

/// A Gateway server host without its optional `namespace/` scope.
fn bare_host(h: &str) -> &str {
    h.rsplit_once('/').map_or(h, |(_, host)| host)
}

/// `ns/name` of a Gateway.
pub fn gateway_id(gw: &Value) -> String {
    format!("{}/{}", namespace(gw), name(gw))
}

/// Hosts a Gateway serves, over all its servers.
pub fn gateway_hosts(gw: &Value) -> BTreeSet<String> {
    array(&gw["spec"]["servers"])
        .iter()
        .flat_map(|s| array(&s["hosts"]))
        .filter_map(Value::as_str)
        .map(|h| bare_host(h).to_string())
        .collect()
}

/// A VirtualService's gateway references as `ns/name` (`mesh` left out).
pub fn vs_gateway_refs(vs: &Value) -> Vec<String> {
    array(&vs["spec"]["gateways"])
        .iter()
        .filter_map(Value::as_str)
        .filter(|g| *g != "mesh")
        .map(|g| {
            if g.contains('/') {
                g.to_string()
            } else {
                format!("{}/{g}", namespace(vs))
            }
        })
        .collect()
}

/// Two Gateways claiming one host make the ingress pick one of them arbitrarily.
pub fn one_gateway_per_host(m: &Manifests) -> Vec<String> {
    let mut by_host: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for gw in m.of_kind("Gateway") {
        for h in gateway_hosts(gw) {
            by_host.entry(h).or_default().insert(gateway_id(gw));
        }
    }
    by_host
        .into_iter()
        .filter(|(_, gws)| gws.len() != 1)
        .map(|(h, gws)| format!("host {h} is served by {} Gateways: {gws:?}", gws.len()))
        .collect()
}

/// Every VirtualService names Gateways that exist and that serve the VirtualService's hosts.
pub fn gateway_refs_resolve(m: &Manifests) -> Vec<String> {
    let gateways: BTreeMap<String, &Value> =
        m.of_kind("Gateway").map(|g| (gateway_id(g), g)).collect();
    let mut problems = Vec::new();
    for vs in m.of_kind("VirtualService") {
        let refs = vs_gateway_refs(vs);
        if refs.is_empty() {
            problems.push(format!("{} is bound to no ingress Gateway", describe(vs)));
        }
        for r in refs {
            let Some(gw) = gateways.get(&r) else {
                problems.push(format!(
                    "{} references Gateway {r}, which is not in the render",
                    describe(vs)
                ));
                continue;
            };
            let served = gateway_hosts(gw);
            for h in array(&vs["spec"]["hosts"]).iter().filter_map(Value::as_str) {
                if !served.contains(h) {
                    problems.push(format!(
                        "{}: host {h} is not served by its Gateway {r}",
                        describe(vs)
                    ));
                }
            }
        }
    }
    problems
}

fn host_problem(h: &str) -> Option<&'static str> {
    if h.contains('*') {
        Some("contains `*` (it would catch every host)")
    } else if h.contains(':') {
        Some("carries a port (Istio matches hosts without ports)")
    } else if h.is_empty() || h != h.to_ascii_lowercase() || h.starts_with('.') || h.ends_with('.')
    {
        Some("is not a lower-case DNS name")
    } else {
        None
    }
}

/// No `*` and no `:port` in Gateway hosts, VirtualService hosts or certificate names.
pub fn hosts_have_no_port_or_wildcard(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |doc: &Value, h: &str| {
        if let Some(why) = host_problem(h) {
            problems.push(format!("{}: host {h:?} {why}", describe(doc)));
        }
    };
    for gw in m.of_kind("Gateway") {
        for s in array(&gw["spec"]["servers"]) {
            for h in array(&s["hosts"]).iter().filter_map(Value::as_str) {
                check(gw, bare_host(h));
            }
        }
    }
    for vs in m.of_kind("VirtualService") {
        for h in array(&vs["spec"]["hosts"]).iter().filter_map(Value::as_str) {
            check(vs, h);
        }
    }
    for cert in m.of_kind("Certificate") {
        for h in array(&cert["spec"]["dnsNames"])
            .iter()
            .filter_map(Value::as_str)
        {
            check(cert, h);
        }
    }
    problems
}

/// Plain HTTP on port 80 where the public scheme is http; with https, HTTPS on 443 from a
/// cert-manager Certificate in the ingress namespace plus a port-80 server that only redirects.
pub fn gateway_ports_fit_scheme(m: &Manifests) -> Vec<String> {
    let Some((_, scheme)) = m.public() else {
        return vec![
            "ConfigMap sa/sa-public with SA_DOMAIN and SA_PUBLIC_SCHEME is missing".into(),
        ];
    };
    let certs: Vec<&Value> = m.of_kind("Certificate").collect();
    let mut problems = Vec::new();
    for gw in m.of_kind("Gateway") {
        let id = describe(gw);
        let hosts = gateway_hosts(gw);
        let servers = array(&gw["spec"]["servers"]);
        if servers.is_empty() {
            problems.push(format!("{id} has no servers"));
        }
        let mut has_https = false;
        let mut has_redirect = false;
        for s in servers {
            let port = s["port"]["number"].as_u64().unwrap_or(0);
            let protocol = s["port"]["protocol"].as_str().unwrap_or("");
            let tls = &s["tls"];
            let server_hosts: BTreeSet<String> = array(&s["hosts"])
                .iter()
                .filter_map(Value::as_str)
                .map(|h| bare_host(h).to_string())
                .collect();
            match (scheme.as_str(), port, protocol) {
                ("http", 80, "HTTP") if tls.is_null() => {}
                ("https", 80, "HTTP") if tls["httpsRedirect"] == true => {
                    has_redirect = true;
                    if server_hosts != hosts {
                        problems.push(format!("{id}: the redirect server's hosts differ from the HTTPS server's"));
                    }
                }
                ("https", 443, "HTTPS") if tls["mode"] == "SIMPLE" => {
                    has_https = true;
                    let secret = tls["credentialName"].as_str().unwrap_or("");
                    let cert = certs
                        .iter()
                        .find(|c| namespace(c) == INGRESS_NS && c["spec"]["secretName"].as_str() == Some(secret));
                    match cert {
                        None => problems.push(format!(
                            "{id}: credentialName {secret:?} is not the secret of a Certificate in {INGRESS_NS}"
                        )),
                        Some(c) => {
                            let names: BTreeSet<String> = array(&c["spec"]["dnsNames"])
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect();
                            if !server_hosts.is_subset(&names) {
                                problems.push(format!("{id}: {} does not cover hosts {server_hosts:?}", describe(c)));
                            }
                        }
                    }
                }
                _ => problems.push(format!(
                    "{id}: server on port {port}/{protocol} does not fit public scheme {scheme} \
                     (http: port 80 HTTP; https: 443 HTTPS with credentialName, 80 only redirecting)"
                )),
            }
        }
        if scheme == "https" && !(has_https && has_redirect) {
            problems.push(format!(
                "{id}: needs an HTTPS server on 443 and an HTTP→HTTPS redirect on 80"
            ));
        }
    }
    if scheme == "https" {
        let issuers: BTreeSet<&str> = m.of_kind("ClusterIssuer").map(name).collect();
        for c in &certs {
            let issuer = c["spec"]["issuerRef"]["name"].as_str().unwrap_or("");
            if c["spec"]["issuerRef"]["kind"] == "ClusterIssuer" && !issuers.contains(issuer) {
                problems.push(format!(
                    "{}: ClusterIssuer {issuer} is not in the render",
                    describe(c)
                ));
            }
        }
    }
    problems
}
