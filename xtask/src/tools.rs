//! Finds the tools the build and the tests need, and installs the missing ones.
//!
//! What is measured about this machine is in `docs/architecture.md` ("Toolchain facts"): Trunk 0.21 (0.22 needs a
//! newer rustc), wasm-bindgen-cli pinned to Cargo.lock, wasm-opt from npm's binaryen (Debian's
//! 108 breaks the output), and everything offline.
use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context, Result};

use crate::progress::{note, step};

/// The binaryen release whose wasm-opt is known to produce working Leptos builds.
const BINARYEN_NPM: &str = "binaryen@132";
/// Minifies the wasm-bindgen glue and the chunk loader (split.rs).
const TERSER_NPM: &str = "terser@5.51.4";

pub struct Toolchain {
    /// Directories put in front of PATH for Trunk (wasm-opt, cargo-installed tools).
    extra_path: Vec<PathBuf>,
    /// False when no working wasm-opt could be had: the apps are then built without it.
    pub wasm_opt: bool,
    /// False without the rust-src component: the apps then link the prebuilt std (larger).
    pub build_std: bool,
    /// terser, when it could be installed: the JS glue is minified with it.
    pub terser: Option<PathBuf>,
}

impl Toolchain {
    pub fn path_env(&self) -> OsString {
        let mut dirs = self.extra_path.clone();
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap_or_default()
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("PATH", self.path_env());
        c
    }
}

fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin")
}

/// `program --version` output, or None when it can't run.
fn version_of(path: &OsString, program: &str, arg: &str) -> Option<String> {
    let out = Command::new(program)
        .arg(arg)
        .env("PATH", path)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn ensure_wasm_toolchain(root: &Path) -> Result<Toolchain> {
    let npm_bin = root.join(".tools/node_modules/.bin");
    let mut tc = Toolchain {
        extra_path: vec![npm_bin.clone(), cargo_bin()],
        wasm_opt: true,
        build_std: true,
        terser: None,
    };
    let path = tc.path_env();

    // 1. The wasm32 target.
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32 target")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        note("wasm32-unknown-unknown target: present");
    } else {
        step("adding the wasm32-unknown-unknown target", || {
            crate::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
        })?;
    }

    // 1b. std's sources: the apps are built with a std compiled for size (apps.rs).
    let components = Command::new("rustup")
        .args(["component", "list", "--installed"])
        .output()
        .context("rustup is needed to add rust-src")?;
    if String::from_utf8_lossy(&components.stdout)
        .lines()
        .any(|l| l.trim().starts_with("rust-src"))
    {
        note("rust-src component: present");
    } else if step(
        "adding the rust-src component (std is rebuilt for the apps' size)",
        || crate::run(Command::new("rustup").args(["component", "add", "rust-src"])),
    )
    .is_err()
    {
        note("rust-src could not be added: building the apps with the prebuilt std (about 8% larger .wasm)");
        tc.build_std = false;
    }

    // 2. Trunk 0.21.
    match version_of(&path, "trunk", "--version") {
        Some(v) if v.starts_with("trunk 0.21") => note(&format!("{v}: present")),
        found => {
            if let Some(v) = found {
                note(&format!(
                    "found {v}, but this project needs Trunk 0.21 (0.22 needs a newer rustc)"
                ));
            }
            step(
                "installing Trunk 0.21 (cargo install, about 7 minutes on 2 cores)",
                || {
                    crate::run(Command::new("cargo").args([
                        "install",
                        "trunk",
                        "--locked",
                        "--version",
                        "~0.21",
                    ]))
                },
            )?;
        }
    }

    // 3. wasm-bindgen-cli at exactly the version in Cargo.lock.
    let want = locked_version(root, "wasm-bindgen")?;
    match version_of(&path, "wasm-bindgen", "--version") {
        Some(v) if v == format!("wasm-bindgen {want}") => note(&format!("{v}: present")),
        found => {
            if let Some(v) = found {
                note(&format!(
                    "found {v}, but Cargo.lock has wasm-bindgen {want}"
                ));
            }
            // No --locked: its lock file names a webpki-roots version the registry here lacks.
            step(
                &format!("installing wasm-bindgen-cli {want} (cargo install, about 2 minutes)"),
                || {
                    crate::run(Command::new("cargo").args([
                        "install",
                        "wasm-bindgen-cli",
                        "--force",
                        "--version",
                        &format!("={want}"),
                    ]))
                },
            )?;
        }
    }

    // 4. A working wasm-opt: npm's binaryen, never Debian's 108.
    let local = npm_bin.join("wasm-opt");
    if local.exists()
        && version_of(&path, local.to_str().unwrap_or("wasm-opt"), "--version").is_some()
    {
        note(&format!(
            "wasm-opt ({BINARYEN_NPM}, project-local): present"
        ));
    } else {
        let installed = step(
            &format!("installing wasm-opt from npm ({BINARYEN_NPM}) into .tools/"),
            || {
                let npm = which("npm")
                    .context("npm is not installed; without it there is no working wasm-opt")?;
                crate::run(
                    Command::new(npm)
                        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                        .arg(root.join(".tools"))
                        .arg(BINARYEN_NPM),
                )
            },
        );
        if installed.is_err() || !local.exists() {
            note("no working wasm-opt could be installed: building WITHOUT wasm-opt (larger .wasm, about 1.4x brotli size)");
            tc.wasm_opt = false;
        }
    }

    // 5. terser for the JS glue, also from npm.
    let terser = npm_bin.join("terser");
    if terser.exists() {
        note(&format!("terser ({TERSER_NPM}, project-local): present"));
    } else {
        let _ = step(
            &format!("installing terser from npm ({TERSER_NPM}) into .tools/"),
            || {
                let npm = which("npm").context("npm is not installed")?;
                crate::run(
                    Command::new(npm)
                        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                        .arg(root.join(".tools"))
                        .arg(TERSER_NPM),
                )
            },
        );
        if !terser.exists() {
            note("terser could not be installed: the JS glue stays unminified (about 1.7 KB more brotli per app)");
        }
    }
    tc.terser = terser.exists().then_some(terser);
    Ok(tc)
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The version of `package` that Cargo.lock resolved.
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{package}\"") {
            if let Some(v) = lines
                .next()
                .and_then(|v| v.trim().strip_prefix("version = \""))
            {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    bail!("{package} is not in Cargo.lock")
}

/// What the tests need beyond the Rust toolchain, as (binary, Debian package).
const TEST_SERVICES: &[(&str, &str)] = &[
    ("/usr/bin/redis-server", "redis-server"),
    ("/usr/lib/postgresql/15/bin/initdb", "postgresql"),
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
];

/// Redis, PostgreSQL and Chromium for the integration and browser tests (kubectl: kubectl.rs).
pub fn ensure_test_services() -> Result<()> {
    let missing: Vec<&str> = TEST_SERVICES
        .iter()
        .filter(|(bin, _)| !Path::new(bin).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        note("redis-server, PostgreSQL 15, Chromium, chromedriver: present");
        return Ok(());
    }
    let apt = which("apt-get");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let installable = missing;
    match (apt, root) {
        (Some(apt), true) => step(
            &format!(
                "installing test services with apt-get: {}",
                installable.join(" ")
            ),
            || {
                crate::run(Command::new(&apt).arg("update").arg("-qq"))?;
                crate::run(
                    Command::new(&apt)
                        .args(["install", "-y", "-qq"])
                        .args(&installable)
                        .env("DEBIAN_FRONTEND", "noninteractive"),
                )
            },
        ),
        _ => bail!(
            "missing test services: run `sudo apt-get install -y {}`",
            installable.join(" ")
        ),
    }
}
