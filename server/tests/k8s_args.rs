//! The manifests and the CLI can't drift apart: every `sa-server` container in every rendered
//! overlay must have arguments that `sa-server`'s own parser accepts.
use std::{path::Path, process::Command};

use clap::Parser;
use sa_server::cli::Cli;

fn render(overlay: &str) -> Vec<serde_yaml_ng::Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../k8s/overlays")
        .join(overlay);
    let out = Command::new("kubectl")
        .args(["kustomize"])
        .arg(&dir)
        .output()
        .expect("kubectl is needed to render the manifests: install it (cargo xtask test checks for it)");
    assert!(
        out.status.success(),
        "kubectl kustomize {overlay}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// `$(VAR)` references are expanded by the kubelet; any plausible value will do for parsing.
fn expand(arg: &str) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find(')')
            .map(|e| start + e)
            .expect("unclosed $(");
        out.push_str(match &rest[start + 2..end] {
            "SA_PUBLIC_SCHEME" => "https",
            _ => "example.test",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn sa_server_commands(docs: &[serde_yaml_ng::Value]) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for doc in docs {
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(containers) = doc["spec"]["template"]["spec"]["containers"].as_sequence() else {
            continue;
        };
        for c in containers {
            let image = c["image"].as_str().unwrap_or_default();
            if !image.contains("sa-server") {
                continue;
            }
            let args: Vec<String> = c["args"]
                .as_sequence()
                .map(|a| a.iter().map(|v| expand(v.as_str().unwrap())).collect())
                .unwrap_or_default();
            found.push((
                format!("{name}/{}", c["name"].as_str().unwrap_or_default()),
                args,
            ));
        }
    }
    found
}

#[test]
fn every_container_command_parses_with_the_cli() {
    for overlay in ["minikube", "production"] {
        let commands = sa_server_commands(&render(overlay));
        // client, client-mobile, explorer, auth and three store backends at the very least.
        assert!(
            commands.len() >= 7,
            "{overlay}: only {} sa-server containers found",
            commands.len()
        );
        for (who, args) in commands {
            let argv = std::iter::once("sa-server".to_string()).chain(args.iter().cloned());
            if let Err(e) = Cli::try_parse_from(argv) {
                panic!(
                    "{overlay} {who}: `sa-server {}` does not parse:\n{e}",
                    args.join(" ")
                );
            }
        }
    }
}

#[test]
fn a_misspelt_flag_is_caught() {
    let err = Cli::try_parse_from(["sa-server", "store", "--backend=file", "--data-dri=/data"]);
    assert!(
        err.is_err(),
        "clap accepted a misspelt flag, so the manifest check above proves nothing"
    );
}
