//! From kustomize directories to JSON documents.
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::Manifests;

const INSTALL_HINT: &str = "The manifest tests render the overlays with `kubectl kustomize` and need kustomize v5 \
     (components, replacements), i.e. kubectl 1.27 or newer. Install kubectl from the Kubernetes or Google Cloud \
     apt repository (`apt-get install kubectl`); Debian's own `kubernetes-client` (1.20) is too old. Then run \
     `cargo test -p sa-k8s` again.";

fn run_kubectl(args: &[&std::ffi::OsStr]) -> Result<std::process::Output, String> {
    Command::new("kubectl").args(args).output().map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            format!("kubectl not found on PATH. {INSTALL_HINT}")
        } else {
            format!("could not run kubectl: {e}")
        }
    })
}

/// The major version of the kustomize built into kubectl, from `kubectl version --client`.
fn kustomize_major() -> Result<u32, String> {
    let out = run_kubectl(&["version".as_ref(), "--client".as_ref()])?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Kustomize Version: v"))
        .and_then(|v| v.split('.').next()?.parse().ok())
        .ok_or_else(|| {
            format!(
                "`kubectl version --client` names no kustomize version ({text:?}). {INSTALL_HINT}"
            )
        })
}

/// Runs `kubectl kustomize DIR` and returns its YAML output.
pub fn kustomize(dir: &Path) -> Result<String, String> {
    let major = kustomize_major()?;
    if major < 5 {
        return Err(format!("kubectl has kustomize v{major}. {INSTALL_HINT}"));
    }
    let out = run_kubectl(&["kustomize".as_ref(), dir.as_os_str()])?;
    if !out.status.success() {
        return Err(format!(
            "`kubectl kustomize {}` failed ({}):\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("kubectl printed non-UTF-8 output: {e}"))
}

/// Renders `k8s/overlays/NAME`.
pub fn render_overlay(name: &str) -> Result<Manifests, String> {
    let dir = crate::k8s_dir().join("overlays").join(name);
    let text = kustomize(&dir)?;
    let docs = parse_documents(&text).map_err(|e| format!("overlay {name}: {e}"))?;
    Ok(Manifests::new(name, docs))
}

/// Parses a multi-document YAML stream into JSON values, skipping empty documents.
///
/// Mappings are read through `serde_yaml_ng::Value`, whose mapping rejects a repeated key: a
/// JSON value would silently keep the last one, and the schema could never see the first.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let yaml = serde_yaml_ng::Value::deserialize(de)
            .map_err(|e| format!("YAML document {}: {e}", i + 1))?;
        if yaml.is_null() {
            continue;
        }
        let json = serde_json::to_value(&yaml)
            .map_err(|e| format!("YAML document {}: not JSON-like: {e}", i + 1))?;
        docs.push(json);
    }
    Ok(docs)
}

/// Every YAML file that kustomize reads (base, components, overlays), for the duplicate-key
/// check on the sources: kustomize's own reader may merge a repeated key before we see it.
pub fn source_yaml_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["base", "components", "overlays"] {
        collect_yaml(&crate::k8s_dir().join(top), &mut files);
    }
    files.sort();
    files
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}
