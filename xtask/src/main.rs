//! `cargo xtask dev`, `cargo xtask test` and `cargo xtask build`.
//!
//! Each sets up what is missing (and says so), builds what changed, and then runs.
#![forbid(unsafe_code)]

mod apps;
mod compress;
mod progress;
mod split;
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
    /// Set up tools, build both apps, start `sa-server dev` and print the URLs.
    Dev {
        /// Extra arguments for `sa-server dev` (e.g. `-- --redis-url redis://127.0.0.1/`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Set up tools and test services, build both apps, run every test.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Release build: both apps into dist/ and the server into target/server/sa-server.
    Build,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cli.command {
        Cmd::Dev { args } => dev(&root, &args),
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

fn dev(root: &std::path::Path, args: &[String]) -> Result<()> {
    let toolchain = tools::ensure_wasm_toolchain(root)?;
    apps::build_all(root, &toolchain)?;
    step("building sa-server", || {
        run(Command::new("cargo").args(["build", "--quiet", "-p", "sa-server"]))
    })?;
    println!("==> starting sa-server dev (Ctrl-C stops it)");
    let status = Command::new(root.join("target/debug/sa-server"))
        .arg("dev")
        .args(args)
        .status()
        .context("starting sa-server")?;
    if !status.success() {
        bail!("sa-server dev exited with {status}");
    }
    Ok(())
}

fn test(root: &std::path::Path, args: &[String]) -> Result<()> {
    let toolchain = tools::ensure_wasm_toolchain(root)?;
    tools::ensure_test_services()?;
    apps::build_all(root, &toolchain)?;
    let mut cmd = Command::new("cargo");
    cmd.args(["test", "--no-fail-fast"]).args(args);
    cmd.env("SA_DIST", root.join("dist"));
    cmd.env("PATH", toolchain.path_env());
    step(
        "running the test suite (unit, integration, browser, manifests)",
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
