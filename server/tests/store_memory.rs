//! The store stays inside its memory as its data grows. Each test runs `sa-server store` as a
//! process and reads its resident set (`VmRSS`) from `/proc/PID/status`:
//! - the file backend keeps at most `--cache-bytes` of documents in memory, while writing three
//!   times that and after a restart;
//! - its index costs a bounded number of bytes per model (the figure is printed, for
//!   `docs/store-memory.md`);
//! - `GET /api/model` streams its array: with 200,000 models every URL comes back and the RSS
//!   rises by less than 10 MiB while it answers;
//! - on Redis and PostgreSQL the store's own memory does not follow the data, and the streamed
//!   array is byte for byte the serialized `Vec` of URLs.

mod support;
use std::{
    collections::HashSet,
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::json;

const MIB: u64 = 1024 * 1024;
/// What the runtime may add over its idle RSS under a small load (connections, buffers,
/// allocator slack, the history journal's buffers), whatever the data. Still well under the
/// 24 MiB the file test writes, so a cache that kept every document would fail.
const HEADROOM: u64 = 10 * MIB;
/// The index's cost per model that the RSS bound allows for (measured: see the index test).
const INDEX_BYTES_PER_MODEL: u64 = 512;

struct Store {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Store {
    /// `sa-server store --auth off` with `args` on a free port, once it is ready.
    async fn start(args: &[&str]) -> Store {
        let port = support::services::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_sa-server"))
            .args(["store", "--auth", "off", "--fsync", "never", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sa-server store");
        let store = Store {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        let start = Instant::now();
        loop {
            if let Ok(r) = store
                .http
                .get(format!("{}/readyz", store.base))
                .send()
                .await
            {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "sa-server store did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        store
    }

    /// The resident set of the store process, in bytes.
    fn rss(&self) -> u64 {
        rss_of(self.child.id())
    }

    async fn create(&self, doc: &serde_json::Value) -> String {
        let res = self
            .http
            .post(format!("{}/api/model", self.base))
            .json(doc)
            .send()
            .await
            .expect("POST /api/model");
        assert_eq!(res.status(), 201);
        let created: serde_json::Value = res.json().await.unwrap();
        created["url"].as_str().unwrap().to_string()
    }

    /// Creates `count` models of about `size` bytes with 16 requests in flight; samples the
    /// RSS after each one and returns the URLs and the largest sample.
    async fn create_many(self: &Arc<Self>, count: usize, size: usize) -> (Vec<String>, u64) {
        let pad = "x".repeat(size);
        let jobs = futures_util::stream::iter(0..count).map(|i| {
            let (store, pad) = (self.clone(), pad.clone());
            async move {
                let url = store
                    .create(&json!({"name": format!("model {i}"), "pad": pad}))
                    .await;
                (url, store.rss())
            }
        });
        let mut results: Vec<(String, u64)> = jobs.buffer_unordered(16).collect().await;
        let peak = results.iter().map(|(_, r)| *r).max().unwrap_or(0);
        (results.drain(..).map(|(u, _)| u).collect(), peak)
    }

    async fn urls(&self) -> Vec<String> {
        let res = self
            .http
            .get(format!("{}/api/model", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("/proc/PID/status of the store");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_rss_stays_within_its_cache_budget_while_writing_and_after_a_restart() {
    const BUDGET: u64 = 8 * MIB;
    const DOC: usize = 16 * 1024;
    let models = (3 * BUDGET as usize) / DOC;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("models");
    let budget = BUDGET.to_string();
    let args = ["--backend", "file", "--cache-bytes", &budget, "--data-dir"];
    let args: Vec<&str> = args.into_iter().chain([data.to_str().unwrap()]).collect();

    let store = Arc::new(Store::start(&args).await);
    let idle = store.rss();
    let bound = idle + BUDGET + models as u64 * INDEX_BYTES_PER_MODEL + HEADROOM;
    let (urls, peak) = store.create_many(models, DOC).await;
    let written = store.rss();
    eprintln!(
        "cache budget {} MiB, {models} models of {} KiB ({} MiB): idle {:.1} MiB, peak while writing {:.1} MiB, after {:.1} MiB, bound {:.1} MiB",
        mib(BUDGET),
        DOC / 1024,
        mib((models * DOC) as u64),
        mib(idle),
        mib(peak),
        mib(written),
        mib(bound)
    );
    assert!(
        peak <= bound,
        "RSS while writing {:.1} MiB is over budget + index + headroom ({:.1} MiB)",
        mib(peak),
        mib(bound)
    );
    drop(store);

    let store = Store::start(&args).await;
    let restarted = store.rss();
    // Every model is there: the index covers them all, the cache only some.
    let listed: HashSet<String> = store.urls().await.into_iter().collect();
    let port_of = |u: &str| u.split('/').nth(2).unwrap().to_string();
    let again: HashSet<String> = urls
        .iter()
        .map(|u| u.replace(&port_of(u), &port_of(&store.base)))
        .collect();
    assert_eq!(listed, again);
    for url in listed.iter().take(50) {
        let r = store.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let doc: serde_json::Value = r.json().await.unwrap();
        assert_eq!(doc["pad"].as_str().map(str::len), Some(DOC));
    }
    let read = store.rss();
    eprintln!(
        "after a restart: {:.1} MiB at start, {:.1} MiB after listing and reading",
        mib(restarted),
        mib(read)
    );
    assert!(
        restarted.max(read) <= bound,
        "RSS after a restart {:.1} MiB is over budget + index + headroom ({:.1} MiB): startup cached more than the budget",
        mib(restarted.max(read)),
        mib(bound)
    );
}

/// Writes `count` models straight into a file store's directory (its on-disk format is one
/// `{id}.json` per model), far faster than through HTTP; four threads, as creating files is
/// mostly waiting on the file system.
fn write_models(dir: &Path, count: usize) -> Vec<uuid::Uuid> {
    std::fs::create_dir_all(dir).unwrap();
    let ids: Vec<uuid::Uuid> = (0..count).map(|_| uuid::Uuid::new_v4()).collect();
    std::thread::scope(|s| {
        for (part, chunk) in ids.chunks(count.div_ceil(4)).enumerate() {
            s.spawn(move || {
                for (i, id) in chunk.iter().enumerate() {
                    let path = dir.join(format!("{}.json", id.hyphenated()));
                    let n = part * count.div_ceil(4) + i;
                    std::fs::write(path, format!("{{\"name\":\"Model {n}\",\"n\":{n}}}")).unwrap();
                }
            });
        }
    });
    ids
}

/// 200,000 small files: in memory (`/dev/shm`, about 800 MB while the test runs) where there is
/// one, as creating and removing that many on a busy disk takes minutes.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_models_list_in_a_stream_within_10_mib() {
    const MODELS: usize = 200_000;
    let started = Instant::now();
    let dir = scratch_dir();
    let empty = Store::start(&[
        "--backend",
        "file",
        "--cache-bytes",
        "0",
        "--data-dir",
        dir.path().join("empty").to_str().unwrap(),
    ])
    .await;
    let empty_rss = empty.rss();
    drop(empty);

    let data = dir.path().join("models");
    let ids = write_models(&data, MODELS);
    eprintln!("[{:?}] {MODELS} files written", started.elapsed());
    // Without a cache the RSS over an empty store is the index alone.
    let store = Store::start(&[
        "--backend",
        "file",
        "--cache-bytes",
        "0",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .await;
    let loaded = store.rss();
    eprintln!("[{:?}] store started", started.elapsed());
    let per_model = loaded.saturating_sub(empty_rss) / MODELS as u64;
    eprintln!(
        "index: empty store {:.1} MiB, {MODELS} models {:.1} MiB: {per_model} B per model, {} models per 100 MiB",
        mib(empty_rss),
        mib(loaded),
        100 * MIB / per_model.max(1)
    );
    assert!(
        per_model <= INDEX_BYTES_PER_MODEL,
        "the index costs {per_model} B per model, more than {INDEX_BYTES_PER_MODEL}"
    );

    let before = store.rss();
    let mut res = store
        .http
        .get(format!("{}/api/model", store.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let mut body = Vec::new();
    let mut peak = before;
    while let Some(chunk) = res.chunk().await.expect("the body streams to its end") {
        body.extend_from_slice(&chunk);
        peak = peak.max(store.rss());
    }
    peak = peak.max(store.rss());
    eprintln!(
        "GET /api/model over {MODELS} models: {} bytes; RSS {:.1} MiB before, peak {:.1} MiB (+{:.2} MiB)",
        body.len(),
        mib(before),
        mib(peak),
        mib(peak - before)
    );
    eprintln!("[{:?}] parsing", started.elapsed());
    let urls: Vec<String> = serde_json::from_slice(&body).expect("a JSON array");
    assert_eq!(urls.len(), MODELS);
    let mut expected: Vec<uuid::Uuid> = ids;
    expected.sort_unstable_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected
        .iter()
        .map(|id| format!("{}/api/model/{}", store.base, id.hyphenated()))
        .collect();
    let expected = serde_json::to_vec(&expected).unwrap();
    // Not assert_eq!: printing 14 MB of bytes would take minutes.
    let first_difference = body.iter().zip(&expected).position(|(a, b)| a != b);
    assert!(
        body.len() == expected.len() && first_difference.is_none(),
        "the streamed array is not byte for byte the original contract, newest first: {} bytes against {}, first difference at {first_difference:?}",
        body.len(),
        expected.len()
    );
    eprintln!("[{:?}] compared", started.elapsed());
    assert!(
        peak - before < 10 * MIB,
        "RSS rose by {:.1} MiB while answering",
        mib(peak - before)
    );
}

/// Redis and PostgreSQL keep the data; the store's RSS must not follow it.
async fn rss_does_not_follow_the_data(store: Store, backend: &str) {
    const DOC: usize = 16 * 1024;
    let store = Arc::new(store);
    // Warm up: connections, scripts, prepared statements and allocator pools.
    let (mut urls, _) = store.create_many(500, DOC).await;
    let warm = store.rss();
    let (more, peak) = store.create_many(2000, DOC).await;
    urls.extend(more);
    let after = store.rss();
    eprintln!(
        "{backend}: RSS {:.1} MiB after 500 models, peak {:.1} MiB and {:.1} MiB after 2,000 more ({:.0} MiB of documents)",
        mib(warm),
        mib(peak),
        mib(after),
        mib((2000 * DOC) as u64)
    );
    assert!(
        peak <= warm + HEADROOM,
        "{backend}: RSS grew from {:.1} to {:.1} MiB with the data",
        mib(warm),
        mib(peak)
    );
    // The streamed array spans three pages of ids and is byte for byte the original contract.
    let body = store
        .http
        .get(format!("{}/api/model", store.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    urls.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(body, serde_json::to_vec(&urls).unwrap(), "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_rss_does_not_follow_the_data() {
    let redis = support::services::Redis::start();
    let url = redis.url();
    let store = Store::start(&["--backend", "redis", "--redis-url", &url]).await;
    rss_does_not_follow_the_data(store, "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_rss_does_not_follow_the_data() {
    let pg = support::services::Postgres::start();
    let url = pg.create_database("sa_memory");
    let store = Store::start(&["--backend", "postgres", "--database-url", &url]).await;
    rss_does_not_follow_the_data(store, "postgres").await;
}
