//! Builds the client and the explorer into `dist/`: each app's wasm split into lazily loaded
//! chunks in a content-addressed folder (split.rs), its CSS and HTML through Trunk (release,
//! offline, without the Rust asset), an `index.html` that starts the split build, and the
//! precompressed siblings. An app whose inputs and dist did not change is not rebuilt.
use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
    process::Command,
};

use anyhow::{bail, Context, Result};

use crate::{
    compress::precompress_dir,
    progress::{note, step},
    split,
    tools::Toolchain,
};

struct App {
    name: &'static str,
    /// The crate, whose bin has the same name.
    package: &'static str,
    /// The page Trunk builds for `trunk serve`; the split build takes its head from it.
    html: &'static str,
    /// Stylesheets (`style/{name}.css`) that only lazy chunks use: the split build's page
    /// holds them in `<template id="sa-lazy-css">`, and the chunk adds them before it renders
    /// (`sa_shared::web::stylesheet`).
    lazy_css: &'static [&'static str],
    /// The stylesheet (`style/{name}.css`) the first view needs besides `style/app.css`. The
    /// split build serves the two as one file: one response less on every first load.
    own_css: &'static str,
}

const APPS: &[App] = &[
    App {
        name: "client",
        package: "sa-client",
        html: "client/index.html",
        lazy_css: &["explorer", "model-view", "editor"],
        own_css: "client",
    },
    App {
        name: "explorer",
        package: "sa-explorer",
        html: "explorer/index.html",
        lazy_css: &["model-view", "editor"],
        own_css: "explorer",
    },
];

/// Inputs of both apps: the explorer is inside the client, and both use shared/, editor/ and
/// style/.
/// xtask itself is one: it is the build.
const INPUTS: &[&str] = &[
    "client",
    "editor",
    "explorer",
    "shared",
    "style",
    "xtask",
    "Cargo.toml",
    "Cargo.lock",
];

/// How the apps' wasm is compiled, on top of the release profile (size first, STYLE.md).
///
/// `-Cpanic=immediate-abort` with std rebuilt from rust-src (`-Zbuild-std`) drops the panic
/// message formatting from std and every crate: 8% less wasm (docs/bench/client.md);
/// `-Zlocation-detail=none` drops the source locations panics would have printed.
/// `-Zfmt-debug=none` makes `{:?}` print nothing: the apps never show a `Debug` form, and it
/// drops `str`'s escaping and its Unicode tables, which the libraries' error messages pulled
/// into the main module (BENCHMARKS.md, issue 14). These are
/// unstable options of the one toolchain, enabled by RUSTC_BOOTSTRAP for this build only.
/// A panic still stops the app, as `panic = "abort"` did, but without a message in the console.
/// `--cfg erase_components` is Leptos' type erasure (also in .cargo/config.toml).
const SIZE_RUSTFLAGS: &str =
    "--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none";
const BUILD_STD: &str = "std,panic_abort";
/// Its own target dir, so `trunk serve` and `cargo check` (other flags) don't evict it.
pub const WASM_TARGET_DIR: &str = "target/wasm-size";

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
    let inputs = fingerprint(root, tc)?;
    let mut fetched = false;
    for app in APPS {
        let dist = root.join("dist").join(app.name);
        let stamp_file = root
            .join("target/xtask")
            .join(format!("{}.stamp", app.name));
        // The stamp names the inputs and the dist they gave. Both must still match: a dist that
        // something else wrote into (an old `trunk serve`, a hand edit) is rebuilt, not served.
        let stamp = std::fs::read_to_string(&stamp_file).unwrap_or_default();
        let (built_from, built_dist) = stamp.split_once('\n').unwrap_or(("", ""));
        if dist.join("index.html").is_file() && built_from == inputs {
            if split::tree_hash(&dist).ok().as_deref() == Some(built_dist) {
                note(&format!("{}: up to date in {}", app.name, dist.display()));
                continue;
            }
            note(&format!(
                "{}: {} changed since xtask built it: rebuilding",
                app.name,
                dist.display()
            ));
        }
        if tc.build_std && !fetched {
            // std's own dependencies must be in the cargo cache for the offline builds.
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
        build_one(root, tc, app, &dist)?;
        step(
            &format!("precompressing dist/{} (.br, .gz)", app.name),
            || precompress_dir(&dist),
        )?;
        std::fs::create_dir_all(stamp_file.parent().unwrap_or(root))?;
        std::fs::write(
            &stamp_file,
            format!("{inputs}\n{}", split::tree_hash(&dist)?),
        )?;
    }
    Ok(())
}

fn build_one(root: &Path, tc: &Toolchain, app: &App, dist: &Path) -> Result<()> {
    let work = root.join("target/xtask").join(app.name);
    let built = split::build(root, tc, app.package, &work.join("wasm"), |cmd| {
        if tc.build_std {
            size_env(cmd, root);
        } else {
            cmd.env("CARGO_TARGET_DIR", root.join(WASM_TARGET_DIR));
        }
    })?;

    // Trunk still builds the page and the CSS (minified, hashed, with SRI), from the app's
    // index.html without its Rust asset, in a folder with no Cargo.toml (else Trunk would
    // build the crate anyway). It empties `dist` first, which drops the previous build.
    let page_dir = work.join("page");
    std::fs::create_dir_all(&page_dir)?;
    let source = root.join(app.html);
    let html = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    let page = page_without_rust(&html, source.parent().unwrap_or(root), root, &page_dir)?;
    let page = with_base_css(&page, &page_dir, &root.join("style"), app.own_css)
        .with_context(|| format!("{}: style/app.css into {}.css", app.name, app.own_css))?;
    std::fs::write(page_dir.join("index.html"), page)?;
    std::fs::write(
        page_dir.join("Trunk.toml"),
        "[build]\noffline = true\nminify = \"on_release\"\n",
    )?;
    step(
        &format!(
            "{}: page and CSS (trunk build --release --offline)",
            app.name
        ),
        || {
            crate::run(
                tc.command("trunk")
                    .current_dir(&page_dir)
                    .args(["build", "--release", "--offline", "--dist"])
                    .arg(dist)
                    .arg("index.html")
                    .env("TRUNK_SKIP_VERSION_CHECK", "true")
                    .env("NO_COLOR", "true"),
            )
            .with_context(|| format!("building {}'s page", app.name))
        },
    )?;

    let served = dist.join(&built.hash);
    std::fs::rename(&built.folder, &served)
        .with_context(|| format!("moving the build into {}", served.display()))?;
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path)?;
    let index = lazy_stylesheets(&index, app.lazy_css)
        .with_context(|| format!("{}: the lazy stylesheets", index_path.display()))?;
    let start = start_tags(&served, &built)?;
    let Some(at) = index.find("</head>") else {
        bail!("{} has no </head>", index_path.display());
    };
    std::fs::write(
        &index_path,
        format!("{}{start}{}", &index[..at], &index[at..]),
    )?;
    note(&format!(
        "{}: dist/{}/{}/ holds {} and {} chunk file(s)",
        app.name,
        app.name,
        built.hash,
        built.wasm,
        std::fs::read_dir(&served)?
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.ends_with(".wasm") && !n.ends_with("_bg.wasm")
            })
            .count()
    ));
    Ok(())
}

/// Trunk's page with the `<link>` of each of `names` (`/{name}-{hash}.css`) moved from the
/// head into a `<template id="sa-lazy-css">`, where the browser does not fetch it.
fn lazy_stylesheets(index: &str, names: &[&str]) -> Result<String> {
    let mut page = index.to_string();
    let mut held = String::new();
    for name in names {
        let at = [format!("href=/{name}-"), format!("href=\"/{name}-")]
            .iter()
            .find_map(|href| page.find(href.as_str()))
            .and_then(|h| page[..h].rfind("<link"))
            .with_context(|| format!("no <link href=/{name}-…> in Trunk's page"))?;
        let end = page[at..]
            .find('>')
            .map(|e| at + e + 1)
            .context("an unclosed <link")?;
        held.push_str(&page[at..end]);
        page.replace_range(at..end, "");
    }
    if !held.is_empty() {
        let at = page.find("</head>").context("no </head> in Trunk's page")?;
        page.insert_str(
            at,
            &format!("<template id=\"sa-lazy-css\">{held}</template>"),
        );
    }
    Ok(page)
}

/// `html` (from `dir`) without its `<link data-trunk rel="rust" …>`, with every other Trunk
/// asset's `href` made relative to `page_dir`, where the page is built (both under `root`;
/// Trunk reads an absolute href as relative too).
fn page_without_rust(html: &str, dir: &Path, root: &Path, page_dir: &Path) -> Result<String> {
    let root = root.canonicalize()?;
    let up = "../".repeat(
        page_dir
            .strip_prefix(&root)
            .context("the page folder is under the workspace")?
            .components()
            .count(),
    );
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<link data-trunk") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find('>')
            .map(|e| i + e + 1)
            .context("an unclosed <link data-trunk")?;
        let tag = &rest[i..end];
        rest = &rest[end..];
        if tag.contains("rel=\"rust\"") {
            continue;
        }
        let Some(h) = tag.find("href=\"") else {
            out.push_str(tag);
            continue;
        };
        let v = h + "href=\"".len();
        let close = tag[v..]
            .find('"')
            .map(|c| v + c)
            .context("an unclosed href")?;
        let target = dir.join(&tag[v..close]);
        let target = target
            .canonicalize()
            .with_context(|| format!("{} (in {})", target.display(), dir.display()))?;
        let in_root = target
            .strip_prefix(&root)
            .context("a Trunk asset outside the workspace")?;
        out.push_str(&tag[..v]);
        out.push_str(&up);
        out.push_str(&in_root.to_string_lossy());
        out.push_str(&tag[close..]);
    }
    out.push_str(rest);
    Ok(out)
}

/// `page` (from [`page_without_rust`]) with `style/app.css` and `style/{own}.css` as one
/// stylesheet: the two files' text, in that order, written to `page_dir/{own}.css`, linked where
/// `{own}.css` was. Trunk then minifies and hashes it as `{own}-{hash}.css`.
fn with_base_css(page: &str, page_dir: &Path, style: &Path, own: &str) -> Result<String> {
    let link = |name: &str| -> Result<(usize, usize)> {
        let href = format!("style/{name}.css\"");
        let h = page
            .find(&href)
            .with_context(|| format!("no <link data-trunk rel=\"css\" href=…/style/{name}.css>"))?;
        let at = page[..h]
            .rfind("<link")
            .context("an href outside a <link")?;
        let end = page[h..]
            .find('>')
            .map(|e| h + e + 1)
            .context("an unclosed <link")?;
        Ok((at, end))
    };
    let (base_at, base_end) = link("app")?;
    let (own_at, own_end) = link(own)?;
    if own_at < base_end {
        bail!("style/app.css must be linked before style/{own}.css");
    }
    let mut css = std::fs::read_to_string(style.join("app.css"))?;
    css.push('\n');
    css.push_str(&std::fs::read_to_string(style.join(format!("{own}.css")))?);
    std::fs::write(page_dir.join(format!("{own}.css")), css)?;
    Ok(format!(
        "{}{}<link data-trunk rel=\"css\" href=\"{own}.css\" />{}",
        &page[..base_at],
        &page[base_end..own_at],
        &page[own_end..]
    ))
}

/// The preloads and the start script for the split build in `served` (named `built.hash`).
///
/// As Trunk does: `modulepreload` with integrity for the JS modules (the glue's own import of
/// the loader then takes the checked copy from the module map) and a `preload` with
/// integrity for the main module; the chunks carry theirs in the loader (split.rs).
fn start_tags(served: &Path, built: &split::Built) -> Result<String> {
    let base = format!("/{}/", built.hash);
    let integrity = |name: &str| -> Result<String> { Ok(sri(&std::fs::read(served.join(name))?)) };
    let mut tags = format!(
        "<link rel=\"modulepreload\" href=\"{base}{js}\" crossorigin=\"anonymous\" integrity=\"{}\">",
        integrity(&built.js)?,
        js = built.js
    );
    if let Some(loader) = &built.loader {
        tags.push_str(&format!(
            "<link rel=\"modulepreload\" href=\"{base}{loader}\" crossorigin=\"anonymous\" integrity=\"{}\">",
            integrity(loader)?
        ));
    }
    tags.push_str(&format!(
        "<link rel=\"preload\" href=\"{base}{wasm}\" crossorigin=\"anonymous\" integrity=\"{}\" as=\"fetch\" type=\"application/wasm\">",
        integrity(&built.wasm)?,
        wasm = built.wasm
    ));
    tags.push_str(&format!(
        "<script type=\"module\">import init from \"{base}{js}\";init({{module_or_path:\"{base}{wasm}\"}});</script>",
        js = built.js,
        wasm = built.wasm
    ));
    Ok(tags)
}

/// `sha384-…`, as in an `integrity` attribute.
pub fn sri(bytes: &[u8]) -> String {
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
    // The debug build with names (see `split::build`) must not pass for the shipped one.
    std::env::var_os("SA_SPLIT_NO_OPT").is_some().hash(&mut h);
    (SIZE_RUSTFLAGS, BUILD_STD).hash(&mut h);
    crate::tools::locked_version(root, "wasm-bindgen")?.hash(&mut h);
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

#[cfg(test)]
mod tests {
    use super::{lazy_stylesheets, with_base_css};

    #[test]
    fn app_css_joins_the_apps_own_stylesheet() {
        let dir = tempfile::tempdir().unwrap();
        let (style, page_dir) = (dir.path().join("style"), dir.path().join("page"));
        std::fs::create_dir_all(&style).unwrap();
        std::fs::create_dir_all(&page_dir).unwrap();
        std::fs::write(style.join("app.css"), "body{margin:0}").unwrap();
        std::fs::write(style.join("client.css"), ".list{gap:1rem}").unwrap();
        let page = "<head><link data-trunk rel=\"css\" href=\"../style/app.css\" />\n\
                    <link data-trunk rel=\"css\" href=\"../style/client.css\" />\n\
                    <link data-trunk rel=\"css\" href=\"../style/editor.css\" /></head>";
        let out = with_base_css(page, &page_dir, &style, "client").unwrap();
        assert_eq!(
            out,
            "<head>\n<link data-trunk rel=\"css\" href=\"client.css\" />\n\
             <link data-trunk rel=\"css\" href=\"../style/editor.css\" /></head>"
        );
        assert_eq!(
            std::fs::read_to_string(page_dir.join("client.css")).unwrap(),
            "body{margin:0}\n.list{gap:1rem}"
        );
        assert!(with_base_css(page, &page_dir, &style, "admin").is_err());
    }

    #[test]
    fn lazy_stylesheets_move_into_a_template() {
        let page = "<head><link href=/app-1.css rel=stylesheet><link href=/editor-2.css \
                    integrity=sha384-x rel=stylesheet><link href=\"/explorer-3.css\" rel=stylesheet></head><body>";
        let out = lazy_stylesheets(page, &["explorer", "editor"]).unwrap();
        assert_eq!(
            out,
            "<head><link href=/app-1.css rel=stylesheet><template id=\"sa-lazy-css\">\
             <link href=\"/explorer-3.css\" rel=stylesheet><link href=/editor-2.css \
             integrity=sha384-x rel=stylesheet></template></head><body>"
        );
        assert_eq!(lazy_stylesheets(page, &[]).unwrap(), page);
        assert!(lazy_stylesheets(page, &["admin"]).is_err());
    }
}
