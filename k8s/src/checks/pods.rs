//! Pod templates: probes, hardening, sidecars, metrics, the file store's volume, scaling.
use std::collections::BTreeSet;

use serde_json::Value;

use super::security::OPEN_PATHS;
use crate::manifests::{
    array, describe, name, namespace, selects, string_map, Manifests, PodTemplate, WORKLOAD_NS,
};

const PROBES: &[&str] = &["startupProbe", "livenessProbe", "readinessProbe"];

fn port_names(c: &Value) -> Vec<(Option<&str>, Option<u64>)> {
    array(&c["ports"])
        .iter()
        .map(|p| (p["name"].as_str(), p["containerPort"].as_u64()))
        .collect()
}

/// HTTP probes ask only /healthz or /readyz on a port the container has; every sa-server
/// container has liveness on /healthz and readiness on /readyz.
pub fn probes_use_health_endpoints(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in m.pod_templates() {
        for c in pod.containers() {
            let cname = c["name"].as_str().unwrap_or("?");
            let ports = port_names(c);
            for probe in PROBES {
                let get = &c[*probe]["httpGet"];
                if get.is_null() {
                    continue;
                }
                let path = get["path"].as_str().unwrap_or("/");
                if !OPEN_PATHS.contains(&path) {
                    problems.push(format!(
                        "{} {}/{cname}: {probe} asks {path}, which the server does not serve",
                        pod.kind, pod.name
                    ));
                }
                let known = match &get["port"] {
                    Value::String(n) => ports.iter().any(|(pn, _)| *pn == Some(n.as_str())),
                    Value::Number(n) => ports.iter().any(|(_, pp)| *pp == n.as_u64()),
                    _ => false,
                };
                if !known {
                    problems.push(format!(
                        "{} {}/{cname}: {probe} port {} is not a container port",
                        pod.kind, pod.name, get["port"]
                    ));
                }
            }
            if Manifests::role(c).is_some() {
                for (probe, want) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
                {
                    if c[probe]["httpGet"]["path"] != want {
                        problems.push(format!(
                            "{} {}/{cname}: {probe} must GET {want}",
                            pod.kind, pod.name
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Every container: non-root, read-only root filesystem, no privilege escalation, all
/// capabilities dropped, requests and limits set.
pub fn containers_hardened(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in m.pod_templates() {
        let psc = &pod.spec["securityContext"];
        for c in pod.containers() {
            let id = format!(
                "{} {}/{}",
                pod.kind,
                pod.name,
                c["name"].as_str().unwrap_or("?")
            );
            let sc = &c["securityContext"];
            let eff = |k: &str| if sc[k].is_null() { &psc[k] } else { &sc[k] };
            if *eff("runAsNonRoot") != true {
                problems.push(format!("{id}: runAsNonRoot is not true"));
            }
            if eff("runAsUser").as_u64() == Some(0) {
                problems.push(format!("{id}: runs as uid 0"));
            }
            if sc["readOnlyRootFilesystem"] != true {
                problems.push(format!("{id}: readOnlyRootFilesystem is not true"));
            }
            if sc["allowPrivilegeEscalation"] != false {
                problems.push(format!("{id}: allowPrivilegeEscalation is not false"));
            }
            if sc["privileged"] == true {
                problems.push(format!("{id}: is privileged"));
            }
            if !array(&sc["capabilities"]["drop"])
                .iter()
                .any(|d| d == "ALL")
            {
                problems.push(format!("{id}: capabilities are not dropped (drop: [ALL])"));
            }
            if !array(&sc["capabilities"]["add"]).is_empty() {
                problems.push(format!("{id}: adds capabilities"));
            }
            for kind in ["requests", "limits"] {
                for res in ["cpu", "memory"] {
                    if c["resources"][kind][res].is_null() {
                        problems.push(format!("{id}: no {res} {kind}"));
                    }
                }
            }
        }
    }
    problems
}

/// Sidecars come from the injector of the running control plane, never pinned in the
/// manifests, so proxies and istiod can't drift apart.
pub fn no_pinned_sidecars(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    for pod in m.pod_templates() {
        for key in pod
            .annotations
            .keys()
            .filter(|k| k.starts_with("sidecar.istio.io/proxy") || *k == "sidecar.istio.io/inject")
        {
            if key != "sidecar.istio.io/inject" || pod.annotations[key] == "false" {
                problems.push(format!(
                    "{} {}: annotation {key} pins or disables the sidecar",
                    pod.kind, pod.name
                ));
            }
        }
        if pod.labels.contains_key("istio.io/rev")
            || pod
                .labels
                .get("sidecar.istio.io/inject")
                .is_some_and(|v| v == "false")
        {
            problems.push(format!(
                "{} {}: pod labels choose the injector themselves",
                pod.kind, pod.name
            ));
        }
        for c in pod.containers() {
            let image = c["image"].as_str().unwrap_or("");
            if c["name"] == "istio-proxy" || c["name"] == "istio-init" || image.contains("proxyv2")
            {
                problems.push(format!(
                    "{} {}: a hand-injected Istio proxy container",
                    pod.kind, pod.name
                ));
            }
        }
    }
    match m.of_kind("Namespace").find(|n| name(n) == WORKLOAD_NS) {
        None => problems.push(format!("Namespace {WORKLOAD_NS} is not in the render")),
        Some(ns) => {
            let labels = string_map(&ns["metadata"]["labels"]);
            if labels.get("istio-injection").map(String::as_str) != Some("enabled") {
                problems.push(format!(
                    "Namespace {WORKLOAD_NS}: label istio-injection=enabled is missing"
                ));
            }
            if labels.contains_key("istio.io/rev") {
                problems.push(format!(
                    "Namespace {WORKLOAD_NS}: both istio-injection and istio.io/rev are set"
                ));
            }
        }
    }
    problems
}

/// Access logs on, and Prometheus scrapes every store pod's /metrics.
pub fn telemetry_and_scraping(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let logs = m.of_kind("Telemetry").any(|t| {
        namespace(t) == WORKLOAD_NS
            && array(&t["spec"]["accessLogging"])
                .iter()
                .any(|a| !array(&a["providers"]).is_empty() && a["disabled"] != true)
    });
    if !logs {
        problems.push(format!("no Telemetry with access logging in {WORKLOAD_NS}"));
    }
    for pod in m.store_pods() {
        let a = &pod.annotations;
        let port = a
            .get("prometheus.io/port")
            .and_then(|p| p.parse::<u64>().ok());
        let has_port = pod.containers().any(|c| {
            port_names(c)
                .iter()
                .any(|(_, p)| *p == port && port.is_some())
        });
        if a.get("prometheus.io/scrape").map(String::as_str) != Some("true")
            || a.get("prometheus.io/path").map(String::as_str) != Some("/metrics")
            || !has_port
        {
            problems.push(format!(
                "{} {}: not scraped at /metrics on its container port",
                pod.kind, pod.name
            ));
        }
    }
    problems
}

fn file_store_pods<'a>(m: &'a Manifests) -> Vec<PodTemplate<'a>> {
    m.pod_templates()
        .into_iter()
        .filter(|p| {
            array(&p.spec["containers"]).iter().any(|c| {
                Manifests::role(c) == Some("store")
                    && m.flag(p.namespace, c, "--backend", "SA_BACKEND").as_deref() == Some("file")
            })
        })
        .collect()
}

/// The file store: one replica, Recreate, its data dir on a PVC of its own, never autoscaled.
pub fn file_store_single_writer(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let pods = file_store_pods(m);
    if pods.is_empty() {
        problems.push("no Deployment runs the file store".into());
    }
    let mut claims = BTreeSet::new();
    for pod in &pods {
        let Some(dep) = m
            .of_kind("Deployment")
            .find(|d| name(d) == pod.name && namespace(d) == pod.namespace)
        else {
            problems.push(format!(
                "{} {}: the file store must be a Deployment",
                pod.kind, pod.name
            ));
            continue;
        };
        let id = describe(dep);
        if dep["spec"]["replicas"].as_u64().unwrap_or(1) != 1 {
            problems.push(format!("{id}: more than one replica would be two writers"));
        }
        if dep["spec"]["strategy"]["type"] != "Recreate" {
            problems.push(format!(
                "{id}: strategy is not Recreate, so a rollout runs two writers at once"
            ));
        }
        let c = array(&pod.spec["containers"])
            .iter()
            .find(|c| Manifests::role(c) == Some("store"));
        let dir = c
            .and_then(|c| m.flag(pod.namespace, c, "--data-dir", "SA_DATA_DIR"))
            .unwrap_or_default();
        let mount = c.and_then(|c| {
            array(&c["volumeMounts"])
                .iter()
                .find(|v| v["mountPath"] == dir.as_str())
        });
        let claim = mount
            .and_then(|v| {
                array(&pod.spec["volumes"])
                    .iter()
                    .find(|vol| vol["name"] == v["name"])
            })
            .and_then(|vol| vol["persistentVolumeClaim"]["claimName"].as_str());
        match claim {
            None => problems.push(format!(
                "{id}: data dir {dir:?} is not on a PersistentVolumeClaim"
            )),
            Some(cl) => {
                if !m
                    .of_kind("PersistentVolumeClaim")
                    .any(|p| name(p) == cl && namespace(p) == pod.namespace)
                {
                    problems.push(format!(
                        "{id}: PersistentVolumeClaim {cl} is not in the render"
                    ));
                }
                if !claims.insert(cl.to_string()) {
                    problems.push(format!(
                        "{id}: PersistentVolumeClaim {cl} is shared with another file store"
                    ));
                }
            }
        }
        for hpa in m.of_kind("HorizontalPodAutoscaler") {
            if hpa["spec"]["scaleTargetRef"]["name"] == pod.name && namespace(hpa) == pod.namespace
            {
                problems.push(format!(
                    "{}: autoscales the single-writer file store",
                    describe(hpa)
                ));
            }
        }
    }
    problems
}

/// HPAs and PDBs point at real Deployments; in production every static Deployment and every
/// v1 store Deployment except the file store has both.
pub fn scaling_targets_resolve(m: &Manifests) -> Vec<String> {
    let mut problems = Vec::new();
    let deployments: Vec<&Value> = m.of_kind("Deployment").collect();
    let mut hpa_targets = BTreeSet::new();
    for hpa in m.of_kind("HorizontalPodAutoscaler") {
        let t = &hpa["spec"]["scaleTargetRef"];
        let target = t["name"].as_str().unwrap_or("");
        if t["kind"] != "Deployment"
            || !deployments
                .iter()
                .any(|d| name(d) == target && namespace(d) == namespace(hpa))
        {
            problems.push(format!(
                "{}: scale target {target} is no Deployment in its namespace",
                describe(hpa)
            ));
        }
        hpa_targets.insert(target.to_string());
    }
    let mut pdb_targets = BTreeSet::new();
    for pdb in m.of_kind("PodDisruptionBudget") {
        let sel = string_map(&pdb["spec"]["selector"]["matchLabels"]);
        let pods = m.pods_selected(namespace(pdb), &sel);
        if pods.len() != 1 {
            problems.push(format!(
                "{}: selects {} pod templates, expected exactly one Deployment's",
                describe(pdb),
                pods.len()
            ));
        }
        pdb_targets.extend(pods.iter().map(|p| p.name.to_string()));
    }
    if m.overlay == "production" {
        let file: BTreeSet<&str> = file_store_pods(m).iter().map(|p| p.name).collect();
        for pod in m
            .pod_templates()
            .into_iter()
            .filter(|p| p.kind == "Deployment")
        {
            let role = array(&pod.spec["containers"])
                .iter()
                .find_map(|c| Manifests::role(c));
            let wanted = match role {
                Some("static") => true,
                Some("store") => {
                    !file.contains(pod.name)
                        && pod.labels.get("version").map(String::as_str) == Some("v1")
                }
                _ => false,
            };
            if wanted && !(hpa_targets.contains(pod.name) && pdb_targets.contains(pod.name)) {
                problems.push(format!(
                    "Deployment {}: needs a HorizontalPodAutoscaler and a PodDisruptionBudget",
                    pod.name
                ));
            }
        }
    }
    // A Deployment's own selector must pick its own pods only.
    for d in &deployments {
        let sel = string_map(&d["spec"]["selector"]["matchLabels"]);
        let owners: Vec<&str> = deployments
            .iter()
            .filter(|o| {
                namespace(o) == namespace(d)
                    && selects(
                        &sel,
                        &string_map(&o["spec"]["template"]["metadata"]["labels"]),
                    )
            })
            .map(|o| name(o))
            .collect();
        if owners != [name(d)] {
            problems.push(format!(
                "{}: its selector also matches the pods of {owners:?}",
                describe(d)
            ));
        }
    }
    problems
}

/// Secrets the production overlay expects to be created out of band (k8s/README.md).
pub const EXTERNAL_SECRETS: &[&str] = &["store-backends"];

/// Every ConfigMap, Secret (and key) and PersistentVolumeClaim a pod names is in the render;
/// only the Secrets in [`EXTERNAL_SECRETS`] may come from outside, and when the render has them
/// their keys must be there. A missing one leaves pods stuck in CreateContainerConfigError.
pub fn config_refs_resolve(m: &Manifests) -> Vec<String> {
    let keys = |kind: &str, ns: &str, obj: &str| -> Option<BTreeSet<String>> {
        m.of_kind(kind)
            .find(|d| namespace(d) == ns && name(d) == obj)
            .map(|d| {
                let mut k: BTreeSet<String> = d["data"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                k.extend(
                    d["stringData"]
                        .as_object()
                        .map(|o| o.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default(),
                );
                k
            })
    };
    let mut problems = Vec::new();
    for pod in m.pod_templates() {
        let id = format!("{} {}", pod.kind, pod.name);
        let mut want =
            |kind: &str, obj: &str, key: Option<&str>| match keys(kind, pod.namespace, obj) {
                None if kind == "Secret" && EXTERNAL_SECRETS.contains(&obj) => {}
                None => problems.push(format!("{id}: {kind} {obj} is not in the render")),
                Some(k) => {
                    if let Some(key) = key.filter(|key| !k.contains(*key)) {
                        problems.push(format!("{id}: {kind} {obj} has no key {key}"));
                    }
                }
            };
        for c in pod.containers() {
            for from in array(&c["envFrom"]) {
                if let Some(n) = from["configMapRef"]["name"].as_str() {
                    want("ConfigMap", n, None);
                }
                if let Some(n) = from["secretRef"]["name"].as_str() {
                    want("Secret", n, None);
                }
            }
            for e in array(&c["env"]) {
                let r = &e["valueFrom"];
                if let Some(n) = r["configMapKeyRef"]["name"].as_str() {
                    want("ConfigMap", n, r["configMapKeyRef"]["key"].as_str());
                }
                if let Some(n) = r["secretKeyRef"]["name"].as_str() {
                    want("Secret", n, r["secretKeyRef"]["key"].as_str());
                }
            }
        }
        for v in array(&pod.spec["volumes"]) {
            if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                if !m
                    .of_kind("PersistentVolumeClaim")
                    .any(|p| name(p) == claim && namespace(p) == pod.namespace)
                {
                    problems.push(format!(
                        "{id}: PersistentVolumeClaim {claim} is not in the render"
                    ));
                }
            }
        }
    }
    problems
}
