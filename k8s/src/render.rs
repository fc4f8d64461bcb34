//! From kustomize directories to JSON documents.
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::Manifests;

/// Runs `kubectl kustomize DIR` and returns its YAML output.
pub fn kustomize(dir: &Path) -> Result<String, String> {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output().map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            "kubectl not found on PATH. The manifest tests render the overlays with `kubectl kustomize` \
             (kustomize is built into kubectl). Install kubectl, e.g. from the Kubernetes apt repository \
             (`apt-get install kubectl`) or your distribution's package, then run `cargo test -p sa-k8s` again."
                .to_string()
        } else {
            format!("could not run kubectl: {e}")
        }
    })?;
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
        let yaml = serde_yaml_ng::Value::deserialize(de).map_err(|e| format!("YAML document {}: {e}", i + 1))?;
        if yaml.is_null() {
            continue;
        }
        let json = serde_json::to_value(&yaml).map_err(|e| format!("YAML document {}: not JSON-like: {e}", i + 1))?;
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
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}
