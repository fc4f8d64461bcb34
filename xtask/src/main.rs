//! `cargo xtask setup`, `cargo xtask dev`, `cargo xtask test` and `cargo xtask build`.
//!
//! Each sets up what is missing (and says so), builds what changed, and then runs.
#![forbid(unsafe_code)]

mod apps;
mod compress;
mod gates;
mod import_names;
mod kubectl;
mod progress;
mod services;
#[cfg(test)]
mod services_tests;
mod split;
mod target;
mod tools;

use std::{path::PathBuf, process::Command};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::progress::step;

#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install the tools the builds need (wasm target, rust-src, Trunk, wasm-bindgen-cli,
    /// wasm-opt, terser). `dev`, `test` and `build` run this first.
    Setup,
    /// Set up tools, build both apps, start private Redis and PostgreSQL servers and
    /// `sa-server dev`, and print the URLs.
    Dev {
        /// Leave the Redis store out (no private redis-server).
        #[arg(long)]
        no_redis: bool,
        /// Leave the PostgreSQL store out (no private PostgreSQL).
        #[arg(long)]
        no_postgres: bool,
        /// Extra arguments for `sa-server dev` (e.g. `-- --canary-weight 10`, or
        /// `-- --redis-url redis://127.0.0.1/` to use a server of your own).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Set up tools and test services, build both apps, run every test.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Release build: both apps into dist/ and the server into the target dir's server/sa-server.
    Build,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cli.command {
        Cmd::Setup => tools::ensure_wasm_toolchain(&root).map(drop),
        Cmd::Dev {
            no_redis,
            no_postgres,
            args,
        } => dev(&root, no_redis, no_postgres, &args),
        Cmd::Test { args } => test(&root, &args),
        Cmd::Build => build(&root),
    }
}

fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(dir
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf())
}

fn dev(root: &std::path::Path, no_redis: bool, no_postgres: bool, args: &[String]) -> Result<()> {
    let toolchain = tools::ensure_wasm_toolchain(root)?;
    apps::build_all(root, &toolchain)?;
    step("building sa-server", || {
        run(Command::new("cargo").args(["build", "--quiet", "-p", "sa-server"]))
    })?;
    // Ctrl-C reaches sa-server from the terminal; xtask stays to stop the store servers.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    // A URL of the user's own (flag or environment) means that server is used, not started.
    let given = |flag: &str, env: &str| {
        args.iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
            || std::env::var_os(env).is_some_and(|v| !v.is_empty())
    };
    let wanted = services::Wanted {
        redis: !no_redis && !given("--redis-url", "SA_REDIS_URL"),
        postgres: !no_postgres && !given("--database-url", "SA_DATABASE_URL"),
    };
    let mut stores = services::Services::start(&root.join("data"), wanted);
    println!("==> starting sa-server dev (Ctrl-C stops it and the store servers)");
    let mut server = Command::new(target::dir()?.join("debug/sa-server"))
        .arg("dev")
        .args(stores.server_args())
        .args(args)
        .spawn()
        .context("starting sa-server")?;
    let status = services::supervise(&mut server, &mut stores, &interrupted)?;
    if !status.success() && !interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        bail!("sa-server dev exited with {status}");
    }
    Ok(())
}

fn test(root: &std::path::Path, args: &[String]) -> Result<()> {
    let toolchain = tools::ensure_wasm_toolchain(root)?;
    tools::ensure_test_services()?;
    let kubectl = kubectl::ensure(root)?;
    let path = match kubectl {
        Some(dir) => std::env::join_paths(
            std::iter::once(dir).chain(std::env::split_paths(&toolchain.path_env())),
        )?,
        None => toolchain.path_env(),
    };
    gates::check(&path)?;
    apps::build_all(root, &toolchain)?;
    let mut cmd = Command::new("cargo");
    cmd.args(["test", "--no-fail-fast"]).args(args);
    cmd.env("SA_DIST", root.join("dist"));
    cmd.env("PATH", &path);
    step(
        "running the test suite (unit, integration, browser, manifests)",
        || run(&mut cmd),
    )?;
    // A filtered run (`cargo xtask test -- -p NAME`) asked for those tests only.
    if args.is_empty() {
        editor_in_browser(&path)?;
    }
    Ok(())
}

/// The editor component's own tests, in wasm in headless Chromium. Release profile: the 1 MiB
/// document is too slow for the runner in unoptimised wasm.
fn editor_in_browser(path: &std::ffi::OsStr) -> Result<()> {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "test",
        "--release",
        "-p",
        "sa-editor",
        "--features",
        "web",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "browser",
    ]);
    cmd.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    );
    cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver");
    cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    cmd.env("PATH", path);
    step(
        "running the editor component's tests in headless Chromium (cargo test --release -p sa-editor --features web --target wasm32-unknown-unknown --test browser)",
        || run(&mut cmd),
    )
}

fn build(root: &std::path::Path) -> Result<()> {
    let toolchain = tools::ensure_wasm_toolchain(root)?;
    apps::build_all(root, &toolchain)?;
    step("building sa-server (profile server)", || {
        run(Command::new("cargo").args(["build", "--profile", "server", "-p", "sa-server"]))
    })
}

/// Runs a command to completion; its output goes to the terminal.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd);
    }
    Ok(())
}
