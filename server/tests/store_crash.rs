//! Crash safety: 32 concurrent writers, `kill -9` of the `sa-server store` process in the
//! middle, restart. On every backend each write that got a 2xx is there, with its version and
//! its change event; on the file backend no file is torn either.

mod support;
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};

const WRITERS: usize = 32;
/// Big enough that a write takes several syscalls, so a torn file would show.
const PAD: usize = 48 * 1024;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, port: u16, fsync: &str) -> Server {
    start_with(
        port,
        &[
            "--backend",
            "file",
            "--fsync",
            fsync,
            "--data-dir",
            dir.to_str().unwrap(),
        ],
    )
}

fn start_with(port: u16, backend_args: &[&str]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_sa-server"))
        .args([
            "store",
            "--auth",
            "off",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(backend_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sa-server store");
    Server(child)
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    support::services::eventually("sa-server store to become ready", || async {
        let r = http.get(format!("{base}/readyz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
}

fn doc(writer: usize, seq: i64) -> Value {
    let fill = char::from(b'a' + (seq % 26) as u8).to_string().repeat(PAD);
    json!({"name": format!("crash writer {writer}"), "seq": seq, "pad": fill, "check": seq * 7919})
}

/// A document is whole when its fields agree with each other.
fn assert_whole(v: &Value) -> i64 {
    let seq = v["seq"].as_i64().expect("seq");
    assert_eq!(
        v["check"].as_i64(),
        Some(seq * 7919),
        "fields from two versions"
    );
    let pad = v["pad"].as_str().expect("pad");
    assert_eq!(pad.len(), PAD);
    let c = char::from(b'a' + (seq % 26) as u8);
    assert!(pad.chars().all(|x| x == c), "pad from another version");
    seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_no_acknowledged_write() {
    file_crash("always").await;
}

/// `batch` trades power-loss durability, not crash safety: a killed process loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_no_acknowledged_write_with_batched_fsync() {
    file_crash("batch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_no_acknowledged_write_on_redis() {
    let redis = support::services::Redis::start();
    let url = redis.url();
    crash_and_restart(
        // A crash test, not a load test: a generous backend timeout keeps a busy machine from
        // answering 503 (an unacknowledged write) to every writer.
        |port| {
            start_with(
                port,
                &[
                    "--backend",
                    "redis",
                    "--redis-url",
                    &url,
                    "--backend-timeout-ms",
                    "20000",
                ],
            )
        },
        None,
        "0-0",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_no_acknowledged_write_on_postgres() {
    let pg = support::services::Postgres::start();
    let url = pg.create_database("crash");
    crash_and_restart(
        |port| {
            start_with(
                port,
                &[
                    "--backend",
                    "postgres",
                    "--database-url",
                    &url,
                    "--backend-timeout-ms",
                    "20000",
                ],
            )
        },
        None,
        "0",
    )
    .await;
}

async fn file_crash(fsync: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("models");
    crash_and_restart(|port| start(&data, port, fsync), Some(&data), "0").await;
}

async fn crash_and_restart(launch: impl Fn(u16) -> Server, data: Option<&Path>, origin: &str) {
    let port = support::services::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let server = launch(port);
    wait_healthy(&http, &base).await;

    let ids: Vec<uuid::Uuid> = (0..WRITERS).map(|_| uuid::Uuid::new_v4()).collect();
    let acked: Arc<Vec<AtomicI64>> = Arc::new((0..WRITERS).map(|_| AtomicI64::new(0)).collect());
    let tags: Arc<Vec<parking_lot::Mutex<String>>> = Arc::new(
        (0..WRITERS)
            .map(|_| parking_lot::Mutex::new(String::new()))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (http, base, id, acked, stop, tags) = (
                http.clone(),
                base.clone(),
                ids[w],
                acked.clone(),
                stop.clone(),
                tags.clone(),
            );
            tokio::spawn(async move {
                for seq in 1..100_000i64 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    match http
                        .put(format!("{base}/api/model/{id}"))
                        .json(&doc(w, seq))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            *tags[w].lock() = r.headers()["etag"].to_str().unwrap().to_string();
                            acked[w].store(seq, Ordering::SeqCst);
                        }
                        Ok(r) => panic!("writer {w}: unexpected {}", r.status()),
                        // The server died under us: the outcome of this write is unknown.
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();

    // Let some writes land, then kill -9 in the middle of the traffic.
    let start_wait = Instant::now();
    while acked.iter().map(|a| a.load(Ordering::SeqCst)).sum::<i64>() < 200
        && start_wait.elapsed() < Duration::from_secs(20)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(server); // SIGKILL, then reap
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let acked: Vec<i64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    assert!(
        acked.iter().sum::<i64>() >= 200,
        "too few writes before the kill: {acked:?}"
    );

    let _server = launch(port);
    wait_healthy(&http, &base).await;
    for (w, id) in ids.iter().enumerate() {
        let res = http
            .get(format!("{base}/api/model/{id}"))
            .send()
            .await
            .unwrap();
        if acked[w] == 0 {
            continue;
        }
        assert_eq!(res.status(), 200, "writer {w}'s acknowledged write is gone");
        let seq = assert_whole(&res.json::<Value>().await.unwrap());
        // A write in flight at the kill may or may not have landed; nothing older may come back.
        assert!(
            seq == acked[w] || seq == acked[w] + 1,
            "writer {w}: acked {} but found {seq}",
            acked[w]
        );
    }
    // Each acknowledged write has its version and its change event.
    let mut wanted: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    for (w, id) in ids.iter().enumerate() {
        if acked[w] == 0 {
            continue;
        }
        let tag = tags[w].lock().clone();
        let versions: Value = http
            .get(format!("{base}/api/model/{id}/versions?limit=1000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kept: Vec<&str> = versions["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["etag"].as_str().unwrap())
            .collect();
        assert!(
            kept.contains(&tag.trim_matches('"')),
            "writer {w}: acknowledged {tag} has no version ({kept:?})"
        );
        wanted.insert((id.to_string(), tag));
    }
    let mut feed = support::services::sse::Sse::open(
        http.get(format!("{base}/api/changes"))
            .header("last-event-id", origin)
            .timeout(Duration::from_secs(600)),
    )
    .await;
    while !wanted.is_empty() {
        let e = feed.next().await;
        assert_eq!(e.event, "change", "{e:?}");
        let d = e.json();
        wanted.remove(&(
            d["id"].as_str().unwrap().to_string(),
            d["etag"].as_str().unwrap().to_string(),
        ));
    }
    let Some(data) = data else {
        return;
    };
    // No torn file anywhere, and the crash's temporary files are gone.
    let mut files = 0;
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && !name.ends_with(".tmp") {
            // The history beside the models (.changes.log, .history/).
            continue;
        }
        assert!(!name.ends_with(".tmp"), "leftover temporary file {name}");
        let v: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap())
            .unwrap_or_else(|e| panic!("{name} is torn: {e}"));
        assert_whole(&v);
        files += 1;
    }
    let page: Value = http
        .get(format!("{base}/api/model?view=summary&limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"].as_u64(), Some(files as u64));
    assert!(files >= acked.iter().filter(|a| **a > 0).count());
}
