//! A rendered document set and the look-ups the checks share.
use std::collections::BTreeMap;

use serde_json::Value;

/// All documents of one rendered overlay.
#[derive(Clone, Debug)]
pub struct Manifests {
    pub overlay: String,
    pub docs: Vec<Value>,
}

/// `Kind ns/name` for messages.
pub fn describe(doc: &Value) -> String {
    let kind = doc["kind"].as_str().unwrap_or("?");
    match doc["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind} {ns}/{}", name(doc)),
        None => format!("{kind} {}", name(doc)),
    }
}

pub fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or("")
}

/// The namespace of a namespaced object (`default` when unset, as kubectl would apply it).
pub fn namespace(doc: &Value) -> &str {
    doc["metadata"]["namespace"].as_str().unwrap_or("default")
}

/// String-to-string map at `v` (labels, selectors); empty when absent.
pub fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether every `selector` pair is among `labels`. An empty selector matches nothing here:
/// our selectors are never meant to be namespace-wide.
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// A Service: where a mesh host name resolves.
#[derive(Clone, Debug)]
pub struct ServiceRef<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<u64>,
}

/// The pod template of a Deployment or StatefulSet.
#[derive(Clone, Debug)]
pub struct PodTemplate<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub spec: &'a Value,
}

impl PodTemplate<'_> {
    /// `containers` and `initContainers`.
    pub fn containers(&self) -> impl Iterator<Item = &Value> {
        array(&self.spec["initContainers"])
            .iter()
            .chain(array(&self.spec["containers"]))
    }
}

impl Manifests {
    pub fn new(overlay: &str, docs: Vec<Value>) -> Self {
        Self {
            overlay: overlay.to_string(),
            docs,
        }
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.docs.iter().filter(move |d| d["kind"] == kind)
    }

    /// The first document of `kind` named `name` (any namespace).
    pub fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.docs
            .iter()
            .find(|d| d["kind"] == kind && self::name(d) == name)
    }

    /// Mutable access for tests that break a copy on purpose.
    pub fn find_mut(&mut self, kind: &str, name: &str) -> Option<&mut Value> {
        let i = self
            .docs
            .iter()
            .position(|d| d["kind"] == kind && self::name(d) == name)?;
        self.docs.get_mut(i)
    }

    pub fn services(&self) -> Vec<ServiceRef<'_>> {
        self.of_kind("Service")
            .map(|d| ServiceRef {
                namespace: namespace(d),
                name: name(d),
                selector: string_map(&d["spec"]["selector"]),
                ports: array(&d["spec"]["ports"])
                    .iter()
                    .filter_map(|p| p["port"].as_u64())
                    .collect(),
            })
            .collect()
    }

    /// The Service a mesh host names, the way Istio reads it from a resource in `from_ns`:
    /// `name`, `name.ns`, `name.ns.svc` or `name.ns.svc.cluster.local`.
    pub fn resolve_host(&self, host: &str, from_ns: &str) -> Option<ServiceRef<'_>> {
        let parts: Vec<&str> = host.split('.').collect();
        let (svc, ns) = match parts.as_slice() {
            [svc] => (*svc, from_ns),
            [svc, ns] | [svc, ns, "svc"] | [svc, ns, "svc", "cluster", "local"] => (*svc, *ns),
            _ => return None,
        };
        self.services()
            .into_iter()
            .find(|s| s.name == svc && s.namespace == ns)
    }

    pub fn pod_templates(&self) -> Vec<PodTemplate<'_>> {
        self.docs
            .iter()
            .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
            .map(|d| PodTemplate {
                kind: d["kind"].as_str().unwrap_or(""),
                namespace: namespace(d),
                name: name(d),
                labels: string_map(&d["spec"]["template"]["metadata"]["labels"]),
                annotations: string_map(&d["spec"]["template"]["metadata"]["annotations"]),
                spec: &d["spec"]["template"]["spec"],
            })
            .collect()
    }

    /// Pod templates in `ns` whose labels carry every pair of `selector`.
    pub fn pods_selected<'a>(
        &'a self,
        ns: &str,
        selector: &BTreeMap<String, String>,
    ) -> Vec<PodTemplate<'a>> {
        self.pod_templates()
            .into_iter()
            .filter(|p| p.namespace == ns && selects(selector, &p.labels))
            .collect()
    }

    /// The pods behind the store Services named in `sa_shared::routes::STORE_ROUTES`.
    pub fn store_pods(&self) -> Vec<PodTemplate<'_>> {
        let mut names: Vec<&str> = sa_shared::routes::STORE_ROUTES
            .iter()
            .map(|r| r.k8s_service)
            .collect();
        names.dedup();
        let mut pods: Vec<PodTemplate<'_>> = Vec::new();
        for svc in self
            .services()
            .into_iter()
            .filter(|s| s.namespace == WORKLOAD_NS && names.contains(&s.name))
        {
            for p in self.pods_selected(svc.namespace, &svc.selector) {
                if !pods
                    .iter()
                    .any(|q| q.name == p.name && q.namespace == p.namespace)
                {
                    pods.push(p);
                }
            }
        }
        pods
    }

    /// A ConfigMap's `data`.
    pub fn config_map(&self, ns: &str, name: &str) -> Option<BTreeMap<String, String>> {
        self.of_kind("ConfigMap")
            .find(|d| namespace(d) == ns && self::name(d) == name)
            .map(|d| string_map(&d["data"]))
    }

    /// The overlay's domain and scheme (ConfigMap `sa/sa-public`).
    pub fn public(&self) -> Option<(String, String)> {
        let data = self.config_map(WORKLOAD_NS, "sa-public")?;
        Some((
            data.get("SA_DOMAIN")?.clone(),
            data.get("SA_PUBLIC_SCHEME")?.clone(),
        ))
    }

    /// The environment a container sees that the render can know: ConfigMap `envFrom`s and
    /// literal `env` values, in the kubelet's order, with `$(VAR)` expanded.
    pub fn container_env(&self, ns: &str, container: &Value) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for from in array(&container["envFrom"]) {
            if let Some(cm) = from["configMapRef"]["name"].as_str() {
                let prefix = from["prefix"].as_str().unwrap_or("");
                for (k, v) in self.config_map(ns, cm).unwrap_or_default() {
                    env.insert(format!("{prefix}{k}"), v);
                }
            }
        }
        for e in array(&container["env"]) {
            if let (Some(k), Some(v)) = (e["name"].as_str(), e["value"].as_str()) {
                let v = expand(v, &env);
                env.insert(k.to_string(), v);
            }
        }
        env
    }

    /// The value of `--flag` (as `--flag=v` or `--flag v` in `args`), else of environment
    /// variable `env_var`, with `$(VAR)` expanded as the kubelet would.
    pub fn flag(&self, ns: &str, container: &Value, flag: &str, env_var: &str) -> Option<String> {
        let env = self.container_env(ns, container);
        let args: Vec<&str> = array(&container["args"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let eq = format!("{flag}=");
        for (i, a) in args.iter().enumerate() {
            if let Some(v) = a.strip_prefix(&eq) {
                return Some(expand(v, &env));
            }
            if *a == flag {
                return args.get(i + 1).map(|v| expand(v, &env));
            }
        }
        env.get(env_var).cloned()
    }

    /// The `sa-server` role a container runs (`static`, `store`, `auth`), if it runs sa-server.
    pub fn role(container: &Value) -> Option<&str> {
        let image = container["image"].as_str()?;
        let repo = image.rsplit('/').next()?.split([':', '@']).next()?;
        if repo != "sa-server" {
            return None;
        }
        array(&container["args"]).first()?.as_str()
    }
}

/// The namespace of the workloads.
pub const WORKLOAD_NS: &str = "sa";

/// Kubernetes `$(VAR)` expansion; unknown variables stay as written, like the kubelet does.
pub fn expand(s: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                let var = &after[..end];
                match env.get(var) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_known_variables_only() {
        let env = BTreeMap::from([("A".to_string(), "x".to_string())]);
        assert_eq!(expand("http://$(A).d/$(B)", &env), "http://x.d/$(B)");
        assert_eq!(expand("$(A", &env), "$(A");
    }
}
