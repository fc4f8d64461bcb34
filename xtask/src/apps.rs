//! Builds the client and the explorer with Trunk (release, offline) into `dist/`, then writes
//! the precompressed siblings. An app whose inputs did not change is not rebuilt.
use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result};

use crate::{
    compress::precompress_dir,
    progress::{note, step},
    tools::Toolchain,
};

struct App {
    name: &'static str,
    /// Directory Trunk runs in (holds its Trunk.toml).
    trunk_dir: &'static str,
    /// The index.html Trunk builds, relative to `trunk_dir`.
    target: &'static str,
}

const APPS: &[App] = &[
    App {
        name: "client",
        trunk_dir: ".",
        target: "client/index.html",
    },
    App {
        name: "explorer",
        trunk_dir: "explorer",
        target: "index.html",
    },
];

/// Inputs of both apps: the explorer is inside the client, and both use shared/ and style/.
const INPUTS: &[&str] = &[
    "client",
    "explorer",
    "shared",
    "style",
    "Cargo.toml",
    "Cargo.lock",
    "Trunk.toml",
];

/// How the apps' wasm is compiled, on top of the release profile (size first, STYLE.md).
///
/// `-Cpanic=immediate-abort` with std rebuilt from rust-src (`-Zbuild-std`) drops the panic
/// message formatting from std and every crate: 8% less wasm (docs/bench/client.md);
/// `-Zlocation-detail=none` drops the source locations panics would have printed. These are
/// unstable options of the one toolchain, enabled by RUSTC_BOOTSTRAP for this build only.
/// A panic still stops the app, as `panic = "abort"` did, but without a message in the console.
/// `--cfg erase_components` is Leptos' type erasure (also in .cargo/config.toml).
const SIZE_RUSTFLAGS: &str =
    "--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none";
const BUILD_STD: &str = "std,panic_abort";
/// Its own target dir, so `trunk serve` and `cargo check` (other flags) don't evict it.
const WASM_TARGET_DIR: &str = "target/wasm-size";

fn size_env(cmd: &mut Command, root: &Path) {
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", BUILD_STD)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            SIZE_RUSTFLAGS,
        )
        .env("CARGO_TARGET_DIR", root.join(WASM_TARGET_DIR));
}

pub fn build_all(root: &Path, tc: &Toolchain) -> Result<()> {
    let stamp = fingerprint(root, tc)?;
    let mut fetched = false;
    for app in APPS {
        let dist = root.join("dist").join(app.name);
        let stamp_file = root
            .join("target/xtask")
            .join(format!("{}.stamp", app.name));
        if dist.join("index.html").is_file()
            && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str())
        {
            note(&format!("{}: up to date in {}", app.name, dist.display()));
            continue;
        }
        if tc.build_std && !fetched {
            // Trunk builds offline, so std's own dependencies must be in the cargo cache first.
            step(
                "fetching the crates std is built from (cargo fetch)",
                || {
                    let mut cmd = tc.command("cargo");
                    cmd.current_dir(root)
                        .args(["fetch", "--target", "wasm32-unknown-unknown"]);
                    size_env(&mut cmd, root);
                    crate::run(&mut cmd)
                },
            )?;
            fetched = true;
        }
        step(
            &format!(
                "building the {} app (trunk build --release --offline)",
                app.name
            ),
            || build_one(root, tc, app),
        )?;
        if let Some(terser) = &tc.terser {
            step(
                &format!("minifying dist/{}'s JS glue (terser)", app.name),
                || minify_js(&dist, terser),
            )?;
        }
        step(
            &format!("precompressing dist/{} (.br, .gz)", app.name),
            || precompress_dir(&dist),
        )?;
        std::fs::create_dir_all(stamp_file.parent().unwrap_or(root))?;
        std::fs::write(&stamp_file, &stamp)?;
    }
    Ok(())
}

fn build_one(root: &Path, tc: &Toolchain, app: &App) -> Result<()> {
    let dir = root.join(app.trunk_dir);
    let mut target = PathBuf::from(app.target);
    if !tc.wasm_opt {
        // Trunk has no switch to skip wasm-opt; the index.html attribute decides.
        let html = std::fs::read_to_string(dir.join(app.target))?
            .replace("data-wasm-opt=\"z\"", "data-wasm-opt=\"0\"");
        target = target.with_file_name(".index-no-wasm-opt.html");
        std::fs::write(dir.join(&target), html)?;
    }
    let dist = root.join("dist").join(app.name);
    let mut cmd = tc.command("trunk");
    cmd.current_dir(&dir)
        .args(["build", "--release", "--offline"])
        .arg("--dist")
        .arg(&dist)
        .arg(&target)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("NO_COLOR", "true");
    if tc.build_std {
        size_env(&mut cmd, root);
    }
    crate::run(&mut cmd).with_context(|| format!("building {}", app.name))
}

/// Minifies wasm-bindgen's JS glue in `dist` (Trunk's own minifier leaves it as it is) and
/// puts the new subresource-integrity digest in index.html, where Trunk wrote the old one.
fn minify_js(dist: &Path, terser: &Path) -> Result<()> {
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)?;
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let before = sri(&std::fs::read(&path)?);
        crate::run(
            Command::new(terser)
                .arg(&path)
                .args(["--module", "--compress", "--mangle", "-o"])
                .arg(&path),
        )?;
        let after = sri(&std::fs::read(&path)?);
        if index.contains(&before) {
            index = index.replace(&before, &after);
        }
    }
    std::fs::write(&index_path, index)?;
    Ok(())
}

/// `sha384-…`, as in an `integrity` attribute.
fn sri(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    )
}

fn fingerprint(root: &Path, tc: &Toolchain) -> Result<String> {
    let mut h = DefaultHasher::new();
    tc.wasm_opt.hash(&mut h);
    tc.build_std.hash(&mut h);
    tc.terser.is_some().hash(&mut h);
    (SIZE_RUSTFLAGS, BUILD_STD).hash(&mut h);
    std::fs::read(root.join(".cargo/config.toml"))
        .ok()
        .hash(&mut h);
    for input in INPUTS {
        hash_tree(&root.join(input), &mut h)?;
    }
    Ok(format!("{:016x}", h.finish()))
}

fn hash_tree(path: &Path, h: &mut DefaultHasher) -> Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()),
    };
    if meta.is_dir() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if matches!(name, "target" | "dist" | "node_modules") || name.starts_with('.') {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            hash_tree(&e, h)?;
        }
    } else {
        path.hash(h);
        std::fs::read(path)?.hash(h);
    }
    Ok(())
}
