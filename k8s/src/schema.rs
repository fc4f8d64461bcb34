//! Strict validation against the JSON schemas in `k8s/schemas` (see its README).
use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

/// The schema file for an `apiVersion` + `kind`, by the layout in `k8s/schemas/README.md`.
/// `None` for a pair we have no schema for: the caller must treat that as a failure.
pub fn schema_file(api_version: &str, kind: &str) -> Option<PathBuf> {
    let root = crate::k8s_dir().join("schemas");
    let rel = match api_version.split_once('/') {
        None => format!("k8s/{}-{}.json", kind.to_ascii_lowercase(), api_version),
        Some((group, version)) if group.ends_with(".istio.io") => {
            format!("istio/{group}/{version}/{kind}.json")
        }
        Some((group @ "cert-manager.io", version)) => {
            format!("cert-manager/{group}/{version}/{kind}.json")
        }
        Some((group, version)) => {
            let first = group.split('.').next().unwrap_or(group);
            format!("k8s/{}-{first}-{version}.json", kind.to_ascii_lowercase())
        }
    };
    let path = root.join(rel);
    path.is_file().then_some(path)
}

/// Compiled validators, one per schema file.
#[derive(Default)]
pub struct Validators {
    compiled: HashMap<PathBuf, jsonschema::Validator>,
}

impl Validators {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every way `doc` breaks its schema; an unknown apiVersion/kind is one such way.
    pub fn validate(&mut self, doc: &Value) -> Vec<String> {
        let api_version = doc["apiVersion"].as_str().unwrap_or("");
        let kind = doc["kind"].as_str().unwrap_or("");
        let id = crate::manifests::describe(doc);
        let Some(file) = schema_file(api_version, kind) else {
            return vec![format!(
                "{id}: no schema for apiVersion {api_version:?} kind {kind:?} in k8s/schemas (an unknown kind is an error, not a skip)"
            )];
        };
        let validator = match self.compiled.get(&file) {
            Some(v) => v,
            None => match compile(&file) {
                Ok(v) => self.compiled.entry(file.clone()).or_insert(v),
                Err(e) => return vec![e],
            },
        };
        validator
            .iter_errors(doc)
            .map(|e| format!("{id}: at {}: {e}", e.instance_path()))
            .collect()
    }
}

fn compile(file: &PathBuf) -> Result<jsonschema::Validator, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let schema: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    // Formats stay annotations (the 2020-12 default): the CRDs use OpenAPI formats that JSON
    // Schema does not define.
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(false)
        .build(&schema)
        .map_err(|e| {
            format!(
                "{}: does not compile as a 2020-12 schema: {e}",
                file.display()
            )
        })
}
