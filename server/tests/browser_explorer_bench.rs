//! Issue 6 figures, measured in headless Chromium through `sa-server dev` (numbers for
//! docs/bench/explorer.md, written to `test-artifacts/explorer-bench.json`):
//! - switching to a tab with 10,000 models and rendering its first page, against a tab with 10;
//! - scrolling through all 10,000 models with no main-thread task over 50 ms (Long Tasks API),
//!   against the same rows rendered as one plain DOM list;
//! - the explorer's brotli size against a ceiling that guards against growth (from the `.br`
//!   files in `dist/`, chunks included).
mod support;
use support::explorer_world as world;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::browser::{dist_dir, Browser, DESKTOP};
use world::{World, PASSWORD, USER};

const MANY: usize = 10_000;
const FEW: usize = 10;
const ROUNDS: usize = 5;
/// A ceiling on the explorer's whole build (brotli: the main module and every lazy chunk),
/// against growth. It is not the goal: the goals are per first view, measured by Resource Timing
/// in `browser_chunks` and recorded in BENCHMARKS.md. The split build on the leptos_router and
/// gloo-net stack measured 213,292 B. The live list, "Recently deleted", sa-editor's
/// JsonEditor and the History panel came as lazy chunks (about 100 KB together; the main
/// module grew 6.7 KB): 332,944 B. The explorer's own three-way merge (split points `three_way`
/// and `merge_dialog`: 19,314 B and 31,698 B with all they load, shared parts counted in both)
/// and Format's line budget in the editor chunk: 371,259 B.
const BUDGET: u64 = 380 * 1024;
/// The longest a scripted measurement may run.
const BENCH_WAIT: Duration = Duration::from_secs(180);

/// Starts a page-side measurement that stores its result in `window.__bench`, and waits for it.
async fn measure(b: &Browser, what: &str, js: &str) -> Value {
    b.eval(&format!("window.__bench = undefined; {js}")).await;
    let deadline = Instant::now() + BENCH_WAIT;
    loop {
        let v = b
            .eval("return window.__bench === undefined ? null : window.__bench")
            .await;
        if !v.is_null() {
            return v;
        }
        if Instant::now() > deadline {
            b.fail(&format!("{what} did not finish within {BENCH_WAIT:?}"))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Milliseconds from the click on a tab until its first page of rows is painted.
async fn switch_ms(b: &Browser, store: &str, total: &str) -> f64 {
    let js = format!(
        "const t0 = performance.now();
         document.getElementById('tab-{store}').click();
         (function poll() {{
           const s = document.querySelector('.list-status');
           if (document.querySelector('.list-viewport:not([hidden]) .ex-row') && s && s.textContent.includes('of {total} models')) {{
             requestAnimationFrame(() => {{ window.__bench = performance.now() - t0; }});
           }} else requestAnimationFrame(poll);
         }})();"
    );
    measure(b, &format!("switch to {store}"), &js)
        .await
        .as_f64()
        .unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Scrolls `sel` a viewport per frame to the end (the explorer keeps loading pages on the way)
/// and reports long tasks seen meanwhile.
const SCROLL_JS: &str = "
  const sel = arguments[0], expectRows = arguments[1];
  const long = [];
  const obs = new PerformanceObserver(l => { for (const e of l.getEntries()) long.push(e.duration); });
  obs.observe({type: 'longtask'});
  const vp = document.querySelector(sel);
  const t0 = performance.now();
  let frames = 0;
  (function step() {
    frames++;
    vp.scrollTop += vp.clientHeight;
    const atEnd = vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 2;
    const rows = Math.round(vp.scrollHeight / 56);
    if ((atEnd && rows >= expectRows) || performance.now() - t0 > 150000) {
      setTimeout(() => {
        obs.disconnect();
        window.__bench = {ms: performance.now() - t0, frames, rows, long_tasks: long.length, longest: Math.max(0, ...long)};
      }, 200);
    } else requestAnimationFrame(step);
  })();";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_switches_and_scrolls_10000_models() {
    let w = World::start().await;
    let stack = &w.stack;
    let seeding = Instant::now();
    w.create_many("redis", MANY, "Bulk").await;
    w.create_many("sql", FEW, "Few").await;
    let large = json!({"name": "Large model", "items": (0..20_000).map(|i| json!({"i": i, "label": format!("item {i}")})).collect::<Vec<_>>()});
    let large_bytes = large.to_string().len();
    w.create_one("sql", &large).await;
    let seeded_in = seeding.elapsed();

    let b = stack.browser(DESKTOP).await;
    // Sign in on the client (the refresh cookie serves the explorer too).
    b.goto(&w.url("client", "/login")).await;
    b.fill("#login-username", USER).await;
    b.fill("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.find_text(".app-header", USER).await;
    b.goto(&w.url("explorer", "/file")).await;
    b.find("[role=tab][data-store=redis]").await;
    b.wait_js(
        "the File list loaded",
        "document.querySelector('.ex-list .empty-state') || document.querySelector('.ex-row')",
    )
    .await;

    // Tab switches: File -> Redis (10,000) and File -> PostgreSQL (10), alternating.
    let (mut many, mut few) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        b.click("#tab-file").await;
        many.push(switch_ms(&b, "redis", "10,000").await);
        b.click("#tab-file").await;
        few.push(switch_ms(&b, "sql", "11").await);
    }
    let (many_ms, few_ms) = (median(many.clone()), median(few.clone()));

    // Scroll through all 10,000 in the Redis tab.
    b.click("#tab-file").await;
    switch_ms(&b, "redis", "10,000").await;
    // The machine is shared (other builds run meanwhile), so a run in which the OS took the CPU
    // away can show a long task that is not ours: up to 5 runs, all reported, one must be clean.
    let mut scrolls = Vec::new();
    for _ in 0..5 {
        b.eval("document.querySelector('.list-viewport').scrollTop = 0")
            .await;
        let run = measure(
            &b,
            "scroll 10,000 models",
            &format!(
                "return (function(){{ {SCROLL_JS} }}).apply(null, ['.list-viewport', {MANY}])"
            ),
        )
        .await;
        let clean = run["long_tasks"].as_u64() == Some(0);
        scrolls.push(run);
        if clean {
            break;
        }
    }
    b.find_text(".list-status", "10,000 of 10,000").await;

    // Peer: the same 10,000 rows as one plain DOM list, built and scrolled the same way.
    let plain = measure(
        &b,
        "plain list",
        &format!(
            "const long = []; const obs = new PerformanceObserver(l => {{ for (const e of l.getEntries()) long.push(e.duration); }});
             obs.observe({{type: 'longtask'}});
             setTimeout(() => {{
               const t0 = performance.now();
               const box = document.createElement('div'); box.className = 'list-viewport plain-peer'; box.style.height = '40rem';
               const inner = document.createElement('div');
               for (let i = 0; i < {MANY}; i++) {{ const r = document.createElement('div'); r.className = 'ex-row'; r.style.position = 'static';
                 r.innerHTML = '<span class=row-name>Bulk ' + i + '</span><span class=row-meta>2026-11-25 20:41 · 40 B</span>'; inner.appendChild(r); }}
               box.appendChild(inner); document.querySelector('main').appendChild(box);
               box.getBoundingClientRect();
               const built = performance.now() - t0;
               (function step() {{ box.scrollTop += box.clientHeight;
                 if (box.scrollTop + box.clientHeight >= box.scrollHeight - 2) setTimeout(() => {{ obs.disconnect(); box.remove();
                   window.__bench = {{ms: performance.now() - t0, built, long_tasks: long.length, longest: Math.max(0, ...long)}}; }}, 200);
                 else requestAnimationFrame(step); }})();
             }}, 100);"
        ),
    )
    .await;

    // A large document: open it from the list, then expand its 20,000-item array.
    b.click("#tab-file").await;
    switch_ms(&b, "sql", "11").await;
    let big = measure(
        &b,
        "open a large model",
        "const long = []; const obs = new PerformanceObserver(l => { for (const e of l.getEntries()) long.push(e.duration); });
         obs.observe({type: 'longtask'});
         const row = [...document.querySelectorAll('.ex-row')].find(r => r.textContent.includes('Large model'));
         const t0 = performance.now();
         row.click();
         let opened = 0;
         (function poll() {
           const h = document.querySelector('.model-header h2');
           if (!opened && h && h.textContent === 'Large model' && document.querySelector('.json-tree')) {
             opened = performance.now() - t0;
             const t = [...document.querySelectorAll('.jt-toggle')].find(b => b.textContent.includes('items'));
             const t1 = performance.now();
             t.click();
             (function poll2() {
               if (document.querySelectorAll('.json-tree ul[role=group] > li').length >= 200) {
                 requestAnimationFrame(() => { const expanded = performance.now() - t1; setTimeout(() => { obs.disconnect();
                   window.__bench = {open_ms: opened, expand_ms: expanded, long_tasks: long.length, longest: Math.max(0, ...long)}; }, 100); });
               } else requestAnimationFrame(poll2);
             })();
           } else if (!opened) requestAnimationFrame(poll);
         })();",
    )
    .await;

    let size = explorer_brotli_bytes();
    let report = json!({
        "models": MANY,
        "seeded_in_s": seeded_in.as_secs_f64(),
        "switch_first_page_ms": {"tab_with_10000": many_ms, "tab_with_10": few_ms, "ratio": many_ms / few_ms, "runs_10000": many, "runs_10": few},
        "scroll_10000_runs": scrolls,
        "plain_dom_list_10000": plain,
        "large_model": {"bytes": large_bytes, "items": 20_000, "result": big},
        "explorer_brotli_bytes": size,
    });
    let dir = support::browser::workspace_root().join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("explorer-bench.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());

    for run in &scrolls {
        assert_eq!(
            run["rows"].as_u64(),
            Some(MANY as u64),
            "the scroll reached all {MANY} models: {run}"
        );
    }
    // Speed is a benchmark figure (BENCHMARKS.md), not a pass/fail line: on a loaded machine the
    // same build can show long tasks it doesn't have on a quiet one. The figures are printed and
    // written to test-artifacts/explorer-bench.json; what must hold is that the work happened.
    let clean_scroll = scrolls.iter().any(|r| r["long_tasks"].as_u64() == Some(0));
    println!(
        "scroll without long tasks: {clean_scroll}; large model long tasks: {}; first page of 10,000: {many_ms:.0} ms",
        big["long_tasks"]
    );
    assert!(
        big["long_tasks"].is_u64() && big["open_ms"].is_number(),
        "the large model opened and expanded: {big}"
    );
    // The size is that of the release build with its .br siblings, as `cargo xtask build`
    // makes it; a build without them can't be held to the budget, and says so.
    let bytes =
        size.expect("dist/explorer has no .br files: build the apps with `cargo xtask build`");
    println!("explorer brotli size: {bytes} B (ceiling {BUDGET} B)");
    assert!(
        bytes <= BUDGET,
        "the explorer is {bytes} B brotli, over its ceiling of {BUDGET} B (docs/bench/explorer.md: what it is made of, bench/wasm_breakdown.sh)"
    );
    b.check_no_console_errors().await;
    b.close().await;
}

/// The brotli size of what a browser downloads for the explorer (wasm, JS, CSS, HTML), from
/// the `.br` siblings `cargo xtask build` writes; `None` for a build without them.
fn explorer_brotli_bytes() -> Option<u64> {
    let dir = dist_dir().join("explorer");
    let mut total = 0;
    let mut any = false;
    // The split build keeps the wasm, the JS and the chunks in a content-addressed subfolder;
    // its manifest is for tools, not fetched by browsers.
    for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".br") && !name.starts_with("__wasm_split_manifest") {
            any = true;
            total += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    any.then_some(total)
}
