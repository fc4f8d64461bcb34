//! Issue 12: the split build in headless Chromium through `sa-server dev`. The sign-in page
//! fetches no explorer chunk and the pop-over does (Resource Timing says which files a page
//! fetched); a build whose explorer chunk is gone (offline, or a redeploy under an open tab)
//! shows the reload banner and the rest of the client keeps working; `trunk serve` builds
//! elsewhere and leaves dist/ alone; and the bytes each first view transfers, for
//! BENCHMARKS.md.

mod support;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use support::browser::{dist_dir, workspace_root, Browser, Options, Stack, DESKTOP};

const ROOT: (&str, &str) = ("root", "s3cret-admin-pass");

/// The split build's folder in `dist/<app>`: the one directory named by 16 hex digits.
fn build_folder(app_dist: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(app_dist)
        .unwrap_or_else(|e| panic!("read {}: {e}", app_dist.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.len() == 16 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect();
    assert_eq!(
        folders.len(),
        1,
        "{} should hold exactly one content-addressed build folder (cargo xtask build writes it): {folders:?}",
        app_dist.display()
    );
    folders.into_iter().next().unwrap()
}

/// The chunk files (`NAME.wasm`) only the explorer pop-over's split point needs, from the
/// build's manifest (split name → file stems).
fn explorer_only_chunks(folder: &Path) -> Vec<String> {
    let path = folder.join("__wasm_split_manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; this is not a split build (run `cargo xtask build`)",
            path.display()
        )
    });
    let manifest: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&text).expect("the split manifest is a map of lists");
    let (mine, others): (Vec<_>, Vec<_>) = manifest
        .iter()
        .partition(|(split, _)| split.starts_with("explorer_pop_over_"));
    assert!(
        !mine.is_empty(),
        "no explorer split point in {}: {manifest:?}",
        path.display()
    );
    let elsewhere: BTreeSet<&String> = others.iter().flat_map(|(_, files)| files.iter()).collect();
    let only: Vec<String> = mine
        .iter()
        .flat_map(|(_, files)| files.iter())
        .filter(|f| !elsewhere.contains(f))
        .map(|f| format!("{f}.wasm"))
        .collect();
    assert!(
        only.iter().any(|f| f.starts_with("split_explorer_")),
        "the explorer's own module is missing from {only:?}"
    );
    only
}

/// Every file the page fetched so far, as URL paths (Resource Timing; the page is the
/// navigation entry).
async fn fetched(b: &Browser) -> Vec<String> {
    let v = b
        .eval("return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)")
        .await;
    v.as_array()
        .expect("a list of entries")
        .iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_fetches_no_explorer_chunk_and_the_pop_over_fetches_it() {
    let folder = build_folder(&dist_dir().join("client"));
    let explorer_files = explorer_only_chunks(&folder);
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let id = stack
        .create_model("file", ROOT, &json!({ "name": "Chunked pump"}).to_string())
        .await;

    let b = stack.browser(DESKTOP).await;
    b.goto(&stack.url("client", "/login")).await;
    b.find("#login-submit").await;
    let files = fetched(&b).await;
    assert!(
        files.iter().any(|f| f.ends_with("/__wasm_split.js")),
        "the page runs the split build (its chunk loader): {files:?}"
    );
    for chunk in &explorer_files {
        assert!(
            !files.iter().any(|f| f.ends_with(&format!("/{chunk}"))),
            "/login fetched the explorer's {chunk}: {files:?}"
        );
    }

    // Signing in stays in the same page (client-side navigation), so the list is cumulative.
    b.fill("#login-username", ROOT.0).await;
    b.fill("#login-password", ROOT.1).await;
    b.click("#login-submit").await;
    b.check_text("#session-user", ROOT.0).await;
    b.check_text("#model-list", "Chunked pump").await;
    let files = fetched(&b).await;
    for chunk in &explorer_files {
        assert!(
            !files.iter().any(|f| f.ends_with(&format!("/{chunk}"))),
            "the signed-in workspace fetched the explorer's {chunk} before the pop-over opened: {files:?}"
        );
    }

    b.click("#open-explorer").await;
    b.find(&format!(
        "dialog.explorer-dialog[open] [role=option][data-id='{id}']"
    ))
    .await;
    let files = fetched(&b).await;
    for chunk in &explorer_files {
        let url = format!("/{}/{chunk}", folder.file_name().unwrap().to_string_lossy());
        assert!(
            files.iter().any(|f| f == &url),
            "opening the pop-over fetched {url}: {files:?}"
        );
    }
    b.check_no_console_errors().await;
    b.close().await;
}

/// Copies `from` to `to`, file by file.
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk the dist");
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_explorer_chunk_shows_the_reload_banner_and_the_rest_keeps_working() {
    // The served dist is a copy without the explorer's chunks, as after a redeploy under an
    // open tab (or offline): the page and the main module load, the chunk does not.
    let copy = tempfile::tempdir().expect("temp dist");
    copy_tree(&dist_dir(), copy.path());
    let folder = build_folder(&copy.path().join("client"));
    let removed = explorer_only_chunks(&folder);
    for chunk in &removed {
        for suffix in ["", ".br", ".gz"] {
            let f = folder.join(format!("{chunk}{suffix}"));
            if f.exists() {
                std::fs::remove_file(&f).expect("remove a chunk");
            }
        }
    }
    let stack = Stack::start_on(copy.path().to_path_buf(), Options::default()).await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    stack
        .create_model("file", ROOT, &json!({ "name": "Still here"}).to_string())
        .await;

    let b = stack.browser(DESKTOP).await;
    b.sign_in(&stack, ROOT).await;
    b.check_text("#model-list", "Still here").await;
    b.click("#open-explorer").await;
    b.check_text(
        "#sa-reload",
        "This part of sa could not be loaded (offline, or sa was updated): reload",
    )
    .await;
    // Not under the modal's backdrop: the button is what a click there reaches.
    let on_top = b
        .eval(
            "const r = document.getElementById('sa-reload-button').getBoundingClientRect(); \
             return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)?.id",
        )
        .await;
    assert_eq!(
        on_top,
        json!("sa-reload-button"),
        "the reload button can be clicked"
    );
    b.screenshots("chunk-missing-reload", DESKTOP).await;

    // The rest of the client keeps working: close the pop-over, go to another page and back.
    b.click("#close-explorer").await;
    b.find_none("dialog.explorer-dialog[open]").await;
    b.click("#new-model").await;
    b.find("#create-model").await;
    b.eval("history.back()").await;
    b.check_text("#model-list", "Still here").await;

    // And the button reloads: the session comes back, the banner is gone until the next try.
    b.click("#open-explorer").await;
    b.click("#sa-reload-button").await;
    b.find_none("#sa-reload").await;
    b.check_text("#session-user", ROOT.0).await;

    // What the browser logged is the missing chunk itself, nothing else: its 404, the
    // loader's report of the failed fetch (a 404 can't match the chunk's integrity, so the
    // fetch itself fails), and the trap of Leptos' panic that follows.
    let unexpected: Vec<_> = b
        .console_errors()
        .await
        .into_iter()
        .filter(|e| {
            !(removed.iter().any(|c| e.message.contains(c.as_str()))
                || (e.message.contains("/__wasm_split.js")
                    && (e.message.contains("TypeError: Failed to fetch")
                        || e.message.contains("HTTP status code is not ok")))
                || e.message.contains("RuntimeError: unreachable"))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "other console errors: {unexpected:?}"
    );
    b.close().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// SHA-256 over every file under `dir` (path and bytes), or "absent".
fn tree_digest(dir: &Path) -> String {
    use sha2::Digest;
    if !dir.exists() {
        return "absent".into();
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut h = sha2::Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).expect("read a dist file"));
    }
    format!("{:x}", h.finalize())
}

/// `trunk serve` in `dir` (where the app's Trunk.toml is): a debug, unsplit build, served from
/// its own folder (`target/trunk/<app>`), whose `page` shows `ready` in a browser, with dist/
/// byte for byte as it was. It compiles the app in debug mode, so the first run takes minutes;
/// the wait for it is bounded.
async fn trunk_serve(dir: &str, app: &str, page: &str, ready: &str) {
    let root = workspace_root();
    let dist = root.join("dist");
    let before = tree_digest(&dist);
    let port = free_port();
    let tools = root.join(".tools/node_modules/.bin");
    let path = std::env::join_paths(std::iter::once(tools).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let log = tempfile::NamedTempFile::new().expect("a log file");
    let mut trunk = Command::new("trunk")
        .current_dir(root.join(dir))
        .args(["serve", "--offline", "--no-autoreload", "--port"])
        .arg(port.to_string())
        .env("PATH", path)
        .env("NO_COLOR", "true")
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("could not start trunk ({e}): `cargo xtask dev` installs Trunk 0.21")
        });

    // The first page Trunk serves after its build names the unsplit wasm.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(20 * 60);
    let served = loop {
        if let Ok(res) = http.get(&url).send().await {
            let text = res.text().await.unwrap_or_default();
            if text.contains("_bg.wasm") {
                break text;
            }
        }
        if let Ok(Some(status)) = trunk.try_wait() {
            panic!(
                "trunk serve exited with {status}:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            let _ = trunk.kill();
            panic!(
                "trunk serve did not serve the {app} within 20 min:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        !served.contains("__wasm_split"),
        "trunk serve builds without the split feature"
    );

    // The page starts in a browser (no /config.json under trunk serve: the app falls back to
    // the local dev backend, which is not running here, and still renders).
    let stack = Stack::start().await;
    let b = stack.browser(DESKTOP).await;
    b.goto(&format!("http://{app}.sa.localhost:{port}{page}"))
        .await;
    b.find(ready).await;
    b.close().await;

    let _ = trunk.kill();
    let _ = trunk.wait();
    assert!(
        root.join("target/trunk")
            .join(app)
            .join("index.html")
            .is_file(),
        "trunk serve writes into target/trunk/{app}"
    );
    assert_eq!(
        tree_digest(&dist),
        before,
        "trunk serve changed dist/ (it must write into target/trunk/ only)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_serve_builds_the_client_unsplit_elsewhere_and_leaves_dist_alone() {
    trunk_serve(".", "client", "/login", "#login-form").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_serve_builds_the_explorer_unsplit_elsewhere_and_leaves_dist_alone() {
    trunk_serve("explorer", "explorer", "/", ".explorer").await;
}

/// What one first view transferred: the navigation and every HTML, JS, CSS and wasm
/// response, by Resource Timing's `transferSize` (body as sent, brotli here, plus headers;
/// a response served from the HTTP cache counts 0).
///
/// With `until_shown`, the view ends at the app's `sa:list-rendered` mark (the list is on
/// screen): what was requested after it, such as the change feed's chunk that the list starts
/// then, is returned apart, as the second list, and is not in the total.
async fn transferred(
    b: &Browser,
    until_shown: bool,
) -> (u64, Vec<(String, u64)>, Vec<(String, u64)>) {
    let v = b
        .eval(
            "const m = performance.getEntriesByName('sa:list-rendered', 'mark')[0]; \
             const cut = m ? m.startTime : null; \
             const nav = performance.getEntriesByType('navigation').map(e => [new URL(e.name).pathname, e.transferSize, 0]); \
             const res = performance.getEntriesByType('resource') \
               .filter(e => /\\.(js|css|wasm|html)$/.test(new URL(e.name).pathname)) \
               .map(e => [new URL(e.name).pathname, e.transferSize, e.startTime]); \
             return { cut, rows: nav.concat(res) };",
        )
        .await;
    let cut = v["cut"].as_f64();
    if until_shown {
        assert!(cut.is_some(), "the app set no `sa:list-rendered` mark");
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for r in v["rows"].as_array().expect("entries") {
        let row = (
            r[0].as_str().unwrap_or_default().to_string(),
            r[1].as_u64().unwrap_or(0),
        );
        match cut {
            Some(cut) if until_shown && r[2].as_f64().unwrap_or(0.0) > cut => after.push(row),
            _ => before.push(row),
        }
    }
    (before.iter().map(|r| r.1).sum(), before, after)
}

async fn cold(b: &Browser) {
    b.cdp("Network.clearBrowserCache", json!({})).await;
}

/// Per first view: the stack issue's goal, the figure that issue ended with (what later work
/// must hold), and the ceiling the view must not pass. The first loads (`/login`, `/`, the
/// explorer's tab list) hold the stack issue's figure, so that figure is their ceiling. The
/// views that include lazy parts added since (the explorer pop-over, a model opened) are
/// capped at this build's bytes plus 2 %. A ceiling is lowered when a change makes a view
/// lighter; raising one needs the reason in BENCHMARKS.md.
const FIRST_VIEWS: [(&str, u64, u64, u64); 5] = [
    (
        "client `/login`, form interactive",
        110_000,
        179_494,
        CEIL_LOGIN,
    ),
    (
        "client `/` signed in, list shown",
        130_000,
        179_494,
        CEIL_LIST,
    ),
    (
        "client, everything incl. the explorer chunk",
        230_000,
        247_169,
        CEIL_ALL,
    ),
    ("explorer, tab list shown", 120_000, 174_648, CEIL_EX_LIST),
    ("explorer, a model opened", 160_000, 210_178, CEIL_EX_MODEL),
];

// Measured 2026-12-02 (`cargo xtask build`, then this test with `--nocapture`): 177,714,
// 177,714, 290,906, 174,085 and 243,130 B.
const CEIL_LOGIN: u64 = 179_494;
const CEIL_LIST: u64 = 179_494;
const CEIL_ALL: u64 = 296_700;
const CEIL_EX_LIST: u64 = 174_648;
const CEIL_EX_MODEL: u64 = 247_200;

/// BENCHMARKS.md "First load": bytes per first view, cold HTTP cache, through `sa-server dev`
/// (which serves the `.br` siblings). Fails when a view passes its ceiling in [`FIRST_VIEWS`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_per_first_view() {
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let id = stack
        .create_model("file", ROOT, &json!({ "name": "Measured pump"}).to_string())
        .await;
    let b = stack.browser(DESKTOP).await;
    let mut table = Vec::new();

    // 1. Client /login until the form is interactive (fresh profile: nothing cached).
    b.goto(&stack.url("client", "/login")).await;
    b.find("#login-submit").await;
    table.push(transferred(&b, false).await);

    // 2. Client `/` signed in, list shown: signed in (the refresh cookie), cache emptied.
    b.fill("#login-username", ROOT.0).await;
    b.fill("#login-password", ROOT.1).await;
    b.click("#login-submit").await;
    b.check_text("#model-list", "Measured pump").await;
    cold(&b).await;
    b.goto(&stack.url("client", "/")).await;
    b.check_text("#model-list", "Measured pump").await;
    table.push(transferred(&b, true).await);

    // 3. Everything, the explorer chunk included: the same page, then the pop-over.
    b.click("#open-explorer").await;
    b.find(&format!(
        "dialog.explorer-dialog[open] [role=option][data-id='{id}']"
    ))
    .await;
    table.push(transferred(&b, false).await);

    // 4. The standalone explorer's tab list, 5. a model opened there (same session, cold).
    cold(&b).await;
    b.goto(&stack.url("explorer", "/")).await;
    b.find("[role=tab][data-store=file]").await;
    b.find(".list-viewport .ex-row").await;
    table.push(transferred(&b, true).await);
    b.click(".list-viewport .ex-row").await;
    b.find(".model-view").await;
    table.push(transferred(&b, false).await);

    println!(
        "\n| first view | bytes transferred | goal | stack issue's figure | ceiling | files | then, after the view was shown |"
    );
    println!("|---|---|---|---|---|---|---|");
    let names = |rows: &[(String, u64)]| {
        let files: Vec<String> = rows
            .iter()
            .filter(|r| r.1 > 0)
            .map(|r| {
                let name = r.0.rsplit('/').next().filter(|n| !n.is_empty());
                format!("{} {}", name.unwrap_or(&r.0), r.1)
            })
            .collect();
        files.join(", ")
    };
    for ((view, goal, held, ceiling), (total, rows, after)) in FIRST_VIEWS.iter().zip(&table) {
        let verdict = |limit: &u64| if total <= limit { "met" } else { "missed" };
        let later: u64 = after.iter().map(|r| r.1).sum();
        println!(
            "| {view} | {total} | ≤ {goal} ({}) | {held} ({}) | {ceiling} | {} | {later}: {} |",
            verdict(goal),
            if total <= held { "held" } else { "not held" },
            names(rows),
            names(after)
        );
    }
    for ((view, _, _, ceiling), (total, _, _)) in FIRST_VIEWS.iter().zip(&table) {
        assert!(*total > 0, "{view}: nothing was measured");
        assert!(
            total <= ceiling,
            "{view}: {total} B transferred, over its ceiling of {ceiling} B (FIRST_VIEWS)"
        );
    }
    b.check_no_console_errors().await;
    b.close().await;
}

/// A chunk as `sa-server static` and the dev gateway send it: `application/wasm`, brotli
/// (the `.br` sibling, byte for byte), cached for a year as immutable; `index.html` stays
/// `no-cache`, so a deploy is seen at once and names the new folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_are_served_immutable_and_brotli_by_static_and_the_gateway() {
    use sa_server::static_site::{router, Site};
    use sa_shared::config::RuntimeConfig;

    let client_dist = dist_dir().join("client");
    let folder = build_folder(&client_dist);
    let chunk = explorer_only_chunks(&folder)
        .into_iter()
        .find(|c| c.starts_with("split_explorer_"))
        .expect("the explorer's chunk");
    let path = format!("/{}/{chunk}", folder.file_name().unwrap().to_string_lossy());
    let br = std::fs::read(folder.join(format!("{chunk}.br"))).expect("the chunk's .br sibling");

    let stack = Stack::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Site {
        dir: client_dist.clone(),
        config: RuntimeConfig::for_domain("http", "sa.localhost", Some(stack.addr.port())),
    })
    .expect("sa-server static for the client");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let http = stack.http();
    for (server, base) in [
        ("sa-server static", format!("http://{addr}")),
        ("the dev gateway", stack.ctx.url("client").to_string()),
    ] {
        let res = http
            .get(format!("{base}{path}"))
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{server}: GET {path}: {e}"));
        assert_eq!(res.status(), 200, "{server}: {path}");
        let h = res.headers().clone();
        let header = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(header("content-type"), "application/wasm", "{server}");
        assert_eq!(header("content-encoding"), "br", "{server}");
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{server}"
        );
        assert!(
            header("content-security-policy").contains("'wasm-unsafe-eval'"),
            "{server}: the CSP lets the page compile the chunk"
        );
        assert_eq!(
            &res.bytes().await.unwrap()[..],
            &br[..],
            "{server}: the .br bytes"
        );

        let index = http
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{server}: GET /: {e}"));
        assert_eq!(
            index
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-cache"),
            "{server}: index.html is revalidated"
        );
    }
}
