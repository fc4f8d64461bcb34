//! One app's wasm, split into a main module and lazily loaded chunks, in a content-addressed
//! folder. These are the steps cargo-leptos runs for `--split` (Trunk 0.21 cannot split:
//! its wasm-bindgen call can't take `--keep-lld-exports`); `docs/architecture.md` ("App
//! builds") lists them.
//!
//! 1. `cargo rustc --features split -- -Clink-arg=--emit-relocs`: the linker keeps the
//!    relocations the splitter needs, and the flag reaches only the app's own link step, so
//!    RUSTFLAGS, the dependencies and the rebuilt std stay as they are.
//! 2. `wasm_split_cli_support::transform`: the main module, `split_*.wasm` / `chunk_*.wasm` and
//!    the loader `__wasm_split.js`, which imports `initSync` from the glue.
//! 3. wasm-bindgen on the main module, keeping the exports the chunks link against; then short
//!    names for the imports the main module takes from its glue (import_names.rs).
//! 4. wasm-opt on every module, 5. terser on the JS.
//! 6. The folder is named after a hash of everything in it; the loader and the glue refer to
//!    their neighbours relatively (`./`, `import.meta.url`), so the folder moves as a whole.
use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{anyhow, bail, Context, Result};
use sha2::Digest;

use crate::{progress::step, tools::Toolchain};

/// The loader's file name, next to the glue in the output folder.
pub const LOADER: &str = "__wasm_split.js";
/// Which chunks each split point needs (split name → file stems), for tests and benchmarks.
pub const MANIFEST: &str = "__wasm_split_manifest.json";

/// What Trunk ran as `data-wasm-opt="z" data-wasm-opt-params="…"` before the split, with the
/// wasm features rustc 1.95 emits for wasm32 named: the split chunks carry no
/// `target_features` section for wasm-opt to read them from.
const WASM_OPT_ARGS: &[&str] = &[
    "-Oz",
    "--flatten",
    "--rereloop",
    "-Oz",
    "-Oz",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    // Custom sections no browser reads: about 130 B brotli per module, and a first view
    // fetches up to 76 of them (BENCHMARKS.md, issue 14).
    "--strip-producers",
    "--strip-target-features",
];

/// For the main module alone: its memory is fresh and zeroed when it is instantiated, so the
/// zeros in its data segments need not be sent (about 700 B brotli). Not for the chunks: they
/// are instantiated into the memory the main module already uses.
const WASM_OPT_MAIN_ARGS: &[&str] = &["--zero-filled-memory"];

/// The built folder, before it is moved into the app's dist.
pub struct Built {
    pub folder: PathBuf,
    /// 16 hex digits of SHA-256 over the folder's files: the folder's name when served.
    pub hash: String,
    /// The glue JS, main module and loader file names inside the folder.
    pub js: String,
    pub wasm: String,
    pub loader: Option<String>,
}

/// Steps 1 to 6 for `package` (a crate whose bin has the same name), in `work`.
pub fn build(
    root: &Path,
    tc: &Toolchain,
    package: &str,
    work: &Path,
    cargo_env: impl Fn(&mut Command),
) -> Result<Built> {
    if work.exists() {
        fs::remove_dir_all(work).with_context(|| format!("cleaning {}", work.display()))?;
    }
    let out = work.join("out");
    fs::create_dir_all(&out)?;

    step(
        &format!("{package}: cargo rustc --release --features split (emit-relocs)"),
        || {
            let mut cmd = tc.command("cargo");
            cmd.current_dir(root)
                .args(["rustc", "--quiet", "-p", package, "--bin", package])
                .args(["--target", "wasm32-unknown-unknown", "--release"])
                .args(["--features", "split", "--", "-Clink-arg=--emit-relocs"]);
            cargo_env(&mut cmd);
            crate::run(&mut cmd)
        },
    )?;
    let linked = root
        .join(crate::apps::WASM_TARGET_DIR)
        .join("wasm32-unknown-unknown/release")
        .join(format!("{package}.wasm"));

    let main = work.join("main.wasm");
    let main_module = format!("./{package}.js");
    let split = step(
        &format!("{package}: splitting the wasm (wasm_split_cli_support)"),
        || {
            let input =
                fs::read(&linked).with_context(|| format!("reading {}", linked.display()))?;
            let mut opts = wasm_split_cli_support::Options::new(&input);
            opts.output_dir = out.as_path();
            opts.main_out_path = main.as_path();
            opts.main_module = main_module.as_str();
            opts.link_name = "./__wasm_split.js";
            wasm_split_cli_support::transform(opts).map_err(|e| anyhow!("wasm-split: {e:?}"))
        },
    )?;
    // Sorted: the splitter's map is a HashMap, whose order changes from run to run, and the
    // folder's name is a hash of its files, so the same sources must give the same bytes.
    let prefetch: std::collections::BTreeMap<_, _> = split.prefetch_map.iter().collect();
    fs::write(out.join(MANIFEST), serde_json::to_string_pretty(&prefetch)?)?;

    step(
        &format!("{package}: wasm-bindgen --keep-lld-exports on the main module"),
        || {
            crate::run(
                tc.command("wasm-bindgen")
                    .args(["--target", "web", "--keep-lld-exports", "--no-demangle"])
                    .args(["--no-typescript", "--out-name", package, "--out-dir"])
                    .arg(&out)
                    .arg(&main),
            )
        },
    )?;

    step(
        &format!("{package}: short names for the glue's imports"),
        || {
            let n = crate::import_names::shorten(
                &out.join(format!("{package}_bg.wasm")),
                &out.join(format!("{package}.js")),
                &format!("./{package}_bg.js"),
            )?;
            if n == 0 {
                bail!("the main module imports nothing from ./{package}_bg.js: wasm-bindgen's output changed");
            }
            Ok(())
        },
    )?;

    // `SA_SPLIT_NO_OPT=1 cargo xtask build` leaves the modules as linked, names and all, so a
    // trap in the browser shows which Rust function it was in (that is how a disposed value
    // read from a timer in the editor was found).
    if tc.wasm_opt && std::env::var_os("SA_SPLIT_NO_OPT").is_none() {
        let wasm_opt = root.join(".tools/node_modules/.bin/wasm-opt");
        let mut modules = files_with_ext(&out, "wasm")?;
        // Largest first, so the main module (the longest job) does not start last.
        modules.sort_by_key(|m| std::cmp::Reverse(fs::metadata(m).map_or(0, |d| d.len())));
        let main_bg = out.join(format!("{package}_bg.wasm"));
        step(
            &format!(
                "{package}: wasm-opt on the main module and {} chunk(s)",
                modules.len().saturating_sub(1)
            ),
            || {
                // One wasm-opt per core: the modules are independent, and there are hundreds.
                let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
                let next = std::sync::atomic::AtomicUsize::new(0);
                std::thread::scope(|scope| {
                    let jobs: Vec<_> = (0..workers)
                        .map(|_| {
                            scope.spawn(|| -> Result<()> {
                                loop {
                                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                    let Some(m) = modules.get(i) else {
                                        return Ok(());
                                    };
                                    let mut cmd = if *m == main_bg {
                                        let mut c =
                                            tc.command(wasm_opt.to_str().unwrap_or("wasm-opt"));
                                        c.args(WASM_OPT_MAIN_ARGS);
                                        c
                                    } else {
                                        // npm's wasm-opt is binaryen compiled to wasm, run by node,
                                        // and compiling its 11 MB with V8's optimising tier costs
                                        // more than a chunk's whole run: V8's baseline compiler
                                        // alone took a 208 B chunk from 1.20 s to 0.59 s and a
                                        // 100 KB one from 5.7 s to 4.5 s, with the same output
                                        // byte for byte. The main module runs long enough to
                                        // gain from the optimising tier (22.7 s against 26.4 s).
                                        let mut c = tc.command("node");
                                        c.arg("--liftoff-only").arg(&wasm_opt);
                                        c
                                    };
                                    crate::run(cmd.arg(m).arg("-o").arg(m).args(WASM_OPT_ARGS))
                                        .with_context(|| format!("wasm-opt {}", m.display()))?;
                                }
                            })
                        })
                        .collect();
                    jobs.into_iter().try_for_each(|j| {
                        j.join()
                            .map_err(|_| anyhow!("a wasm-opt worker panicked"))?
                    })
                })
            },
        )?;
    }

    let loader = out.join(LOADER);
    let has_loader = loader.is_file();
    if has_loader {
        pin_chunk_integrity(&loader)?;
    }
    if let Some(terser) = &tc.terser {
        step(&format!("{package}: minifying the JS (terser)"), || {
            for js in files_with_ext(&out, "js")? {
                crate::run(
                    Command::new(terser)
                        .arg(&js)
                        .args(["--module", "--compress", "--mangle", "-o"])
                        .arg(&js),
                )?;
            }
            Ok(())
        })?;
    }

    // Without split points the glue never imports the loader: nothing to preload then.
    let glue = fs::read_to_string(out.join(format!("{package}.js")))?;
    let loader_used = has_loader && glue.contains(&format!("./{LOADER}"));

    let hash = tree_hash(&out)?;
    let folder = work.join(&hash);
    fs::rename(&out, &folder)?;
    Ok(Built {
        folder,
        hash,
        js: format!("{package}.js"),
        wasm: format!("{package}_bg.wasm"),
        loader: loader_used.then(|| LOADER.to_string()),
    })
}

/// Gives every chunk fetch in the loader the SHA-256 of the chunk it fetches.
///
/// The loader fetches with `fetch(new URL("./NAME.wasm", import.meta.url))`, which carries no
/// integrity, and the chunks are fetched long after the page, so no `<link integrity>` can
/// cover them. With `{integrity}` in the fetch, a chunk whose bytes changed fails to load
/// (and shows the reload banner) instead of running; the loader itself is covered by the
/// `modulepreload` integrity in index.html, so the chain stays closed.
fn pin_chunk_integrity(loader: &Path) -> Result<()> {
    let dir = loader.parent().unwrap_or(Path::new("."));
    let mut js = fs::read_to_string(loader)?;
    for chunk in files_with_ext(dir, "wasm")? {
        let name = file_name(&chunk);
        if name.ends_with("_bg.wasm") {
            continue;
        }
        let call = format!("fetch(new URL(\"./{name}\", import.meta.url))");
        if !js.contains(&call) {
            bail!(
                "{} does not fetch {name} as `{call}`: the wasm_split_cli_support loader changed, \
                 so xtask/src/split.rs can't pin the chunk's integrity",
                loader.display()
            );
        }
        let pinned = format!(
            "fetch(new URL(\"./{name}\", import.meta.url), {{ integrity: \"{}\" }})",
            chunk_sri(&fs::read(&chunk)?)
        );
        js = js.replace(&call, &pinned);
    }
    fs::write(loader, js)?;
    Ok(())
}

/// A chunk's integrity as SHA-256, where index.html's (Trunk's) are SHA-384: the loader is part
/// of every first load and carries one digest per chunk (149 in the client), and the digests
/// don't compress. SHA-256 took the client's loader from 9,247 B to 6,816 B brotli
/// (2026-12-01, the same loader with each digest recomputed).
fn chunk_sri(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
    )
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    v.sort();
    Ok(v)
}

/// 16 hex digits of SHA-256 over every file under `dir` (relative path and bytes, in order).
pub fn tree_hash(dir: &Path) -> Result<String> {
    let mut h = sha2::Sha256::new();
    for (rel, path) in walk(dir)? {
        h.update(rel.as_bytes());
        h.update([0]);
        let bytes = fs::read(&path)?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let digest = h.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// Every file under `dir`, as (relative path with `/`, full path), sorted.
fn walk(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    Ok(out)
}
