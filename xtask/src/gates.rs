//! The formatting and lint gates that `cargo xtask test` runs before the tests. Each failure
//! says what to run to fix it.
use std::{ffi::OsStr, process::Command};

use anyhow::{bail, Result};

use crate::progress::step;

/// Clippy over the native crates, and over the apps for the target they are built for.
const CLIPPY: &[(&str, &[&str])] = &[
    ("the native crates", &["--workspace", "--all-targets"]),
    (
        "the apps for wasm32-unknown-unknown",
        &[
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "sa-client",
            "-p",
            "sa-explorer",
        ],
    ),
    (
        "the apps as the split build compiles them (feature `split`), for wasm32-unknown-unknown",
        &[
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "sa-client",
            "-p",
            "sa-explorer",
            "--features",
            "sa-client/split,sa-explorer/split",
        ],
    ),
    (
        "the editor component, its examples and browser tests, for wasm32-unknown-unknown",
        &[
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "sa-editor",
            "--features",
            "web",
            "--all-targets",
        ],
    ),
];

pub fn check(path_env: &OsStr) -> Result<()> {
    step("checking formatting (cargo fmt --all --check)", || {
        if !Command::new("cargo")
            .args(["fmt", "--all", "--check"])
            .status()?
            .success()
        {
            bail!("the files above are not formatted: run `cargo fmt --all` and commit the result");
        }
        Ok(())
    })?;
    for (what, args) in CLIPPY {
        let recheck = format!("cargo clippy {} -- -D warnings", args.join(" "));
        step(&format!("linting {what} ({recheck})"), || {
            let ok = Command::new("cargo")
                .args(["clippy", "--quiet"])
                .args(*args)
                .args(["--", "-D", "warnings"])
                .env("PATH", path_env)
                .status()?
                .success();
            if !ok {
                bail!("clippy found the problems above: fix them, then recheck with `{recheck}`");
            }
            Ok(())
        })?;
    }
    Ok(())
}
