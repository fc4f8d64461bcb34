//! Figures for BENCHMARKS.md, run by `bench/store_feed.sh` (ignored in normal test runs: it
//! measures, it asserts nothing about speed). Each figure comes with its peer from the same run:
//! feed latency against a raw `LISTEN`/`NOTIFY` round trip and a raw `XADD`→`XREAD BLOCK`, PUT
//! throughput with versions against `--keep-versions 0`, and the memory of idle subscribers.

mod support;
use std::time::{Duration, Instant};

use sa_server::store::BackendKind;
use serde_json::json;
use support::services::{backends::Env, sse::Sse, store::TestStore};

const WRITES: usize = 200;

fn percentiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)].as_secs_f64() * 1e3;
    (at(0.50), at(0.99))
}

/// Write → event at each of `subs` subscribers, over [`WRITES`] sequential writes.
async fn feed_latency(s: &TestStore, subs: usize) -> (f64, f64) {
    let mut streams = Vec::new();
    // The test client's 20 s limit would cut long streams on a busy machine.
    let http = reqwest::Client::new();
    for _ in 0..subs {
        streams.push(Sse::open(http.get(s.url("/api/changes")).bearer_auth(&s.reader)).await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    for mut st in streams {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(e) = st.next_within(Duration::from_secs(120)).await {
                let _ = tx.send((
                    e.json()["id"].as_str().unwrap_or("").to_string(),
                    Instant::now(),
                ));
            }
        });
    }
    let mut lat = Vec::new();
    for i in 0..WRITES {
        let start = Instant::now();
        let res = s
            .post_json("/api/model", &json!({"name": format!("bench {i}")}))
            .send()
            .await
            .unwrap();
        let id = res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut got = 0;
        while got < subs {
            let (eid, at) = rx.recv().await.expect("a subscriber's stream ended");
            if eid == id {
                lat.push(at - start);
                got += 1;
            }
        }
    }
    percentiles(lat)
}

async fn put_throughput(s: &TestStore) -> f64 {
    const WRITERS: usize = 32;
    const PUTS: usize = 30;
    let start = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (http, base, token) = (s.http.clone(), s.base.clone(), s.writer.clone());
            tokio::spawn(async move {
                let id = uuid::Uuid::new_v4();
                for seq in 0..PUTS {
                    let res = http
                        .put(format!("{base}/api/model/{id}"))
                        .bearer_auth(&token)
                        .json(
                            &json!({"name": format!("w{w}"), "seq": seq, "pad": "x".repeat(2048)}),
                        )
                        .send()
                        .await
                        .unwrap();
                    assert!(res.status().is_success(), "{}", res.status());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (WRITERS * PUTS) as f64 / start.elapsed().as_secs_f64()
}

async fn report(kind: BackendKind) {
    let env = Env::with(kind, |a| a.backend_timeout_ms = 20_000).await;
    let (p50_1, p99_1) = feed_latency(&env, 1).await;
    let many = env.another(|a| a.backend_timeout_ms = 20_000).await;
    let (p50_100, p99_100) = feed_latency(&many, 100).await;
    let with = env.another(|a| a.backend_timeout_ms = 20_000).await;
    let without = env
        .another(|a| {
            a.backend_timeout_ms = 20_000;
            a.history.keep_versions = Some(0);
        })
        .await;
    let (tw, t0) = (put_throughput(&with).await, put_throughput(&without).await);
    let peer = match kind {
        BackendKind::Postgres => Some(("LISTEN/NOTIFY", raw_notify(&env).await)),
        BackendKind::Redis => Some(("XADD->XREAD", raw_xread(&env).await)),
        BackendKind::File => None,
    };
    println!(
        "BENCH {} feed 1 sub p50 {p50_1:.2} ms p99 {p99_1:.2} ms | 100 subs p50 {p50_100:.2} ms p99 {p99_100:.2} ms",
        env.backend
    );
    if let Some((name, (p50, p99))) = peer {
        println!(
            "BENCH {} peer {name} p50 {p50:.2} ms p99 {p99:.2} ms",
            env.backend
        );
    }
    println!(
        "BENCH {} PUT/s with versions {tw:.0}, --keep-versions 0 {t0:.0}, ratio {:.2}",
        env.backend,
        tw / t0
    );
}

async fn raw_notify(env: &Env) -> (f64, f64) {
    let url = env.postgres.as_ref().unwrap().create_database("rawnotify");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
        .await
        .unwrap();
    listener.listen("bench").await.unwrap();
    let mut lat = Vec::new();
    for i in 0..WRITES {
        let start = Instant::now();
        sqlx::query("SELECT pg_notify('bench', $1)")
            .bind(i.to_string())
            .execute(&pool)
            .await
            .unwrap();
        listener.recv().await.unwrap();
        lat.push(start.elapsed());
    }
    percentiles(lat)
}

async fn raw_xread(env: &Env) -> (f64, f64) {
    let client = redis::Client::open(env.redis.as_ref().unwrap().url()).unwrap();
    let mut w = client.get_multiplexed_async_connection().await.unwrap();
    let mut r = client.get_multiplexed_async_connection().await.unwrap();
    let mut last = "0-0".to_string();
    let mut lat = Vec::new();
    for i in 0..WRITES {
        let start = Instant::now();
        let mut xread = redis::cmd("XREAD");
        xread
            .arg("BLOCK")
            .arg(5000)
            .arg("STREAMS")
            .arg("bench")
            .arg(&last);
        let mut xadd = redis::cmd("XADD");
        xadd.arg("bench").arg("*").arg("i").arg(i);
        let read = xread.query_async::<redis::Value>(&mut r);
        let add = xadd.query_async::<String>(&mut w);
        let (read, id) = tokio::join!(read, add);
        read.unwrap();
        last = id.unwrap();
        lat.push(start.elapsed());
    }
    percentiles(lat)
}

/// RSS of a `sa-server store` process before and after 1,000 idle feed subscribers.
async fn idle_memory() {
    let port = support::services::free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sa-server"))
        .args([
            "store",
            "--auth",
            "off",
            "--backend",
            "file",
            "--max-subscribers",
            "2000",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    support::eventually::eventually_within("store up", Duration::from_secs(20), || {
        let (http, base) = (http.clone(), base.clone());
        async move {
            (http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .ok()?
                .status()
                == 200)
                .then_some(())
        }
    })
    .await;
    let rss = |pid: u32| -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    // Warm up the paths a subscriber uses, so the delta is the subscribers themselves.
    drop(Sse::open(http.get(format!("{base}/api/changes"))).await);
    let before = rss(child.id());
    let mut subs = Vec::new();
    for _ in 0..1000 {
        // One connection per stream, as 1,000 browsers would have.
        let c = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        subs.push(Sse::open(c.get(format!("{base}/api/changes"))).await);
    }
    let after = rss(child.id());
    println!(
        "BENCH memory 1000 idle subscribers: RSS {before} KiB -> {after} KiB, {:.1} KiB each",
        (after.saturating_sub(before)) as f64 / 1000.0
    );
    drop(subs);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: run with bench/store_feed.sh"]
async fn feed_figures() {
    for kind in [BackendKind::File, BackendKind::Redis, BackendKind::Postgres] {
        report(kind).await;
    }
    idle_memory().await;
}
