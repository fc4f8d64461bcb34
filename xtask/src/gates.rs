//! The formatting and lint gates that `cargo xtask test` runs before the tests. Each failure
//! says what to run to fix it.
use std::process::Command;

use anyhow::{bail, Result};

use crate::progress::step;

/// The wasm crates, linted for the target they are built for.
const WASM_PACKAGES: &[&str] = &["sa-client", "sa-explorer"];

pub fn check(path_env: &std::ffi::OsStr) -> Result<()> {
    step("checking formatting (cargo fmt --check)", || {
        let ok = Command::new("cargo")
            .args(["fmt", "--all", "--check"])
            .status()?
            .success();
        if !ok {
            bail!("the files above are not formatted: run `cargo fmt --all` and commit the result");
        }
        Ok(())
    })?;
    step(
        "linting the native crates (cargo clippy --workspace --all-targets -- -D warnings)",
        || {
            let ok = Command::new("cargo")
                .args(["clippy", "--quiet", "--workspace", "--all-targets"])
                .args(["--", "-D", "warnings"])
                .env("PATH", path_env)
                .status()?
                .success();
            if !ok {
                bail!(
                    "clippy found the problems above: fix them, then check with `cargo clippy \
                     --workspace --all-targets -- -D warnings`"
                );
            }
            Ok(())
        },
    )?;
    step(
        "linting the apps for wasm32-unknown-unknown (clippy -D warnings)",
        || {
            let mut cmd = Command::new("cargo");
            cmd.args(["clippy", "--quiet", "--target", "wasm32-unknown-unknown"]);
            for p in WASM_PACKAGES {
                cmd.args(["-p", p]);
            }
            let ok = cmd
                .args(["--", "-D", "warnings"])
                .env("PATH", path_env)
                .status()?
                .success();
            if !ok {
                bail!(
                "clippy found the problems above in the apps: fix them, then check with `cargo \
                 clippy --target wasm32-unknown-unknown -p sa-client -p sa-explorer -- -D \
                 warnings`"
            );
            }
            Ok(())
        },
    )
}
