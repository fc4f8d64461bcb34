//! The image is built by the same command as a local build, and carries what the pods run.
use std::fs;

fn dockerfile() -> String {
    fs::read_to_string(sa_k8s::repo_dir().join("Dockerfile"))
        .expect("Dockerfile at the repository root")
}

/// The instructions of each stage, by stage name.
fn stages(text: &str) -> Vec<(String, Vec<String>)> {
    let joined = text.replace("\\\n", " ");
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    for line in joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("FROM ") {
            let name = line.split_whitespace().collect::<Vec<_>>();
            let alias = match name.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                Some(i) => name.get(i + 1).unwrap_or(&"").to_string(),
                None => String::new(),
            };
            stages.push((alias, vec![line.to_string()]));
        } else if let Some((_, lines)) = stages.last_mut() {
            lines.push(line.to_string());
        }
    }
    stages
}

#[test]
fn build_stage_runs_cargo_xtask_build() {
    let text = dockerfile();
    let stages = stages(&text);
    assert!(stages.len() >= 2, "a multi-stage build");
    let (_, build) = stages
        .iter()
        .find(|(n, _)| n == "build")
        .expect("a stage named `build`");
    let runs: Vec<&String> = build
        .iter()
        .filter(|l| l.to_ascii_uppercase().starts_with("RUN "))
        .collect();
    assert!(
        runs.iter().any(|r| r.trim_start_matches("RUN ").trim() == "cargo xtask build"),
        "the build stage must run exactly `cargo xtask build` (as INTERFACES.md says), found {runs:?}"
    );
    assert!(
        !runs
            .iter()
            .any(|r| r.contains("trunk build") || r.contains("cargo build")),
        "the build stage must not build by other commands than the xtask: {runs:?}"
    );
}

#[test]
fn final_stage_is_minimal_non_root_with_binary_and_both_apps() {
    let text = dockerfile();
    let stages = stages(&text);
    let (_, last) = stages.last().unwrap();
    assert!(
        last[0].contains("distroless") && last[0].contains("nonroot"),
        "final base: {}",
        last[0]
    );
    let copies: Vec<&String> = last.iter().filter(|l| l.starts_with("COPY")).collect();
    for (from, to) in [
        ("target/server/sa-server", "/usr/local/bin/sa-server"),
        ("dist/client", "/app/dist/client"),
        ("dist/explorer", "/app/dist/explorer"),
    ] {
        assert!(
            copies.iter().any(|c| c.contains("--from=build")
                && c.contains(from)
                && c.trim_end().ends_with(to)),
            "the final stage must COPY --from=build {from} to {to}: {copies:?}"
        );
    }
    assert!(
        last.iter()
            .any(|l| l.starts_with("USER") && (l.contains("nonroot") || l.contains("65532"))),
        "USER nonroot"
    );
    assert!(last
        .iter()
        .any(|l| l.starts_with("ENTRYPOINT") && l.contains("/usr/local/bin/sa-server")));
}

#[test]
fn dockerignore_keeps_build_output_and_secrets_out() {
    let text = fs::read_to_string(sa_k8s::repo_dir().join(".dockerignore"))
        .expect(".dockerignore at the repository root");
    for entry in ["target", "dist", ".git", "data"] {
        assert!(
            text.lines()
                .any(|l| l.trim().trim_start_matches('/').trim_end_matches('/') == entry),
            ".dockerignore must list {entry}"
        );
    }
}

#[test]
fn tools_come_from_xtask_setup_in_a_layer_before_the_sources() {
    let text = dockerfile();
    let stages = stages(&text);
    let (_, build) = stages.iter().find(|(n, _)| n == "build").unwrap();
    let setup = build
        .iter()
        .position(|l| l.starts_with("RUN") && l.contains("cargo xtask setup"))
        .expect("the build stage runs `cargo xtask setup`");
    let sources = build
        .iter()
        .position(|l| l.split_whitespace().collect::<Vec<_>>() == ["COPY", ".", "."])
        .expect("the build stage copies the sources with `COPY . .`");
    assert!(
        setup < sources,
        "`cargo xtask setup` must run before `COPY . .`, so its layer stays cached"
    );
    // The tool pins live once, in xtask; the image must not repeat them.
    for pinned in ["cargo install", "npm install", "binaryen", "trunk"] {
        assert!(
            !build
                .iter()
                .any(|l| l.starts_with("RUN") && l.contains(pinned)),
            "the Dockerfile repeats a tool install that xtask owns: {pinned}"
        );
    }
}
