//! Renders sa's kustomize overlays and checks what they say, without a cluster.
//!
//! - [`render`]: `kubectl kustomize`, and a YAML reader that rejects duplicate keys;
//! - [`schema`]: strict validation of every document against `k8s/schemas`;
//! - [`manifests`]: the rendered document set and look-ups into it;
//! - [`checks`]: one function per invariant. Each returns the problems it found (empty when the
//!   manifests are right), so a test can both run it on the real render and show that it catches
//!   a broken copy.
#![forbid(unsafe_code)]

pub mod checks;
pub mod manifests;
pub mod render;
pub mod schema;

use std::path::PathBuf;

pub use manifests::Manifests;

/// The overlays that are deployed; each must render and pass every check.
pub const OVERLAYS: &[&str] = &["minikube", "production"];

/// `k8s/` in the repository.
pub fn k8s_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root (the workspace).
pub fn repo_dir() -> PathBuf {
    k8s_dir().parent().expect("k8s/ has a parent").to_path_buf()
}
