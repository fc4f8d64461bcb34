//! The change feed across store processes: two `sa-server store` processes on one Redis or one
//! PostgreSQL share one feed, and under 32 concurrent writers every subscriber (disconnecting
//! and resuming at random points) sees every event exactly once, in the same order.

mod support;
use std::{
    collections::HashSet,
    process::{Child, Command, Stdio},
    time::Duration,
};
use support::eventually::eventually_within;

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use support::services::{free_port, sse::Sse, Postgres, Redis};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sa-server store --auth off` on a free port, with `backend_args`; waits until it is ready.
async fn start(backend_args: &[&str]) -> Server {
    let port = free_port();
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
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let url = format!("{}/readyz", server.base);
    eventually_within("the store is ready", Duration::from_secs(20), || {
        let (http, url) = (http.clone(), url.clone());
        async move { (http.get(url).send().await.ok()?.status() == 200).then_some(()) }
    })
    .await;
    server
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn subscribe(http: &reqwest::Client, server: &Server, last: Option<&str>) -> Sse {
    let mut req = http.get(format!("{}/api/changes", server.base));
    if let Some(c) = last {
        req = req.header("last-event-id", c);
    }
    Sse::open(req).await
}

async fn write_through_one_seen_by_other(a: &Server, b: &Server) {
    let http = http();
    let mut on_a = subscribe(&http, a, None).await;
    let res = http
        .post(format!("{}/api/model", b.base))
        .json(&json!({"name": "through b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A stream opened without a cursor may start with a write from just before it opened.
    for _ in 0..5 {
        let e = on_a.next().await;
        assert_eq!(e.event, "change");
        if e.json()["id"] == id.as_str() {
            assert_eq!(e.json()["op"], "created");
            return;
        }
    }
    panic!("the write through the other process never arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_redis_processes_share_one_feed() {
    let redis = Redis::start();
    let url = redis.url();
    let args = [
        "--backend",
        "redis",
        "--redis-url",
        &url,
        "--name",
        "shared",
    ];
    let (a, b) = (start(&args).await, start(&args).await);
    write_through_one_seen_by_other(&a, &b).await;
    write_through_one_seen_by_other(&b, &a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgres_processes_share_one_feed() {
    let pg = Postgres::start();
    let url = pg.create_database("feed");
    let args = ["--backend", "postgres", "--database-url", &url];
    let (a, b) = (start(&args).await, start(&args).await);
    write_through_one_seen_by_other(&a, &b).await;
    write_through_one_seen_by_other(&b, &a).await;
}

const WRITERS: usize = 32;
const PUTS: usize = 5;

/// Each writer creates a model and updates it; through both processes in turn.
async fn write_all(servers: &[Server; 2]) -> HashSet<(String, String)> {
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let bases = [servers[0].base.clone(), servers[1].base.clone()];
            tokio::spawn(async move {
                let http = http();
                let mut acked = Vec::new();
                let res = http
                    .post(format!("{}/api/model", bases[w % 2]))
                    .json(&json!({"name": format!("w{w}"), "seq": 0}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let mut tag = res.headers()["etag"].to_str().unwrap().to_string();
                let id = res.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                acked.push((id.clone(), tag.clone()));
                for seq in 1..=PUTS {
                    let res = http
                        .put(format!("{}/api/model/{id}", bases[(w + seq) % 2]))
                        .header("if-match", &tag)
                        .json(&json!({"name": format!("w{w}"), "seq": seq}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200, "writer {w} seq {seq}");
                    tag = res.headers()["etag"].to_str().unwrap().to_string();
                    acked.push((id.clone(), tag.clone()));
                }
                acked
            })
        })
        .collect();
    let mut all = HashSet::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Reads `total` events from the start, dropping the stream after a random number of events
/// and resuming (on the other process) from the last cursor it saw.
async fn resuming_reader(
    servers: &[Server; 2],
    seed: u64,
    total: usize,
) -> Vec<(String, String, String)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let http = http();
    let mut seen: Vec<(String, String, String)> = Vec::new();
    let mut hop = seed as usize;
    while seen.len() < total {
        let last = seen
            .last()
            .map(|(c, _, _)| c.clone())
            .unwrap_or_else(|| "0".into());
        let mut sse = subscribe(&http, &servers[hop % 2], Some(&last)).await;
        hop += 1;
        let burst = rng.gen_range(1..=25);
        for _ in 0..burst {
            if seen.len() == total {
                break;
            }
            let e = sse.next().await;
            assert_eq!(e.event, "change", "{e:?}");
            let d = e.json();
            seen.push((
                e.id.unwrap(),
                d["id"].as_str().unwrap().to_string(),
                d["etag"].as_str().unwrap().to_string(),
            ));
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_two_processes_every_subscriber_sees_each_event_once_in_order() {
    let pg = Postgres::start();
    let url = pg.create_database("feed32");
    // About the feed, not load: a generous backend timeout keeps a busy machine from answering
    // 503 to the writers.
    let args = [
        "--backend",
        "postgres",
        "--database-url",
        &url,
        "--backend-timeout-ms",
        "15000",
    ];
    let servers = [start(&args).await, start(&args).await];
    let total = WRITERS * (PUTS + 1);
    let servers = std::sync::Arc::new(servers);
    let readers: Vec<_> = (0..4u64)
        .map(|seed| {
            let servers = servers.clone();
            tokio::spawn(async move { resuming_reader(&servers, seed, total).await })
        })
        .collect();
    let acked = write_all(&servers).await;
    assert_eq!(acked.len(), total);
    let mut first: Option<Vec<(String, String, String)>> = None;
    for r in readers {
        let seen = r.await.unwrap();
        let cursors: Vec<u64> = seen.iter().map(|(c, _, _)| c.parse().unwrap()).collect();
        assert!(
            cursors.windows(2).all(|w| w[0] < w[1]),
            "out of order or repeated: {cursors:?}"
        );
        let writes: HashSet<(String, String)> = seen
            .iter()
            .map(|(_, id, tag)| (id.clone(), tag.clone()))
            .collect();
        assert_eq!(writes, acked, "every acknowledged write, exactly once");
        match &first {
            None => first = Some(seen),
            Some(f) => assert_eq!(&seen, f, "every subscriber sees the same order"),
        }
    }
}

/// A write that took its cursor but has not committed holds back every later write, so a
/// reader never sees cursor N+1 before N (and a resume "after N+1" can't skip N).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cursor_in_flight_is_never_overtaken() {
    use sqlx::Connection;
    let pg = Postgres::start();
    let url = pg.create_database("inflight");
    let server = start(&["--backend", "postgres", "--database-url", &url]).await;
    let http = http();
    let mut sse = subscribe(&http, &server, Some("0")).await;
    // Writer A: the test itself, in the store's own way, stopped before its commit.
    let mut a = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut tx = a.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(0x5341_4645_4544i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    let id_a = uuid::Uuid::new_v4();
    let cursor_a: i64 = sqlx::query_scalar(
        "INSERT INTO sa_changes (cursor, model, etag, op, by_sub, by_name, updated) \
         VALUES (nextval('sa_change_cursor'), $1, 'a', 'created', 's', 'n', now()) RETURNING cursor",
    )
    .bind(id_a)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    // Writer B: a store write, which must wait for A.
    let base = server.base.clone();
    let b = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/api/model"))
            .json(&json!({"name": "b"}))
            .send()
            .await
            .unwrap()
            .status()
    });
    let watcher = sqlx::PgPool::connect(&url).await.unwrap();
    eventually_within(
        "writer B waits for the cursor lock",
        Duration::from_secs(10),
        || {
            let watcher = watcher.clone();
            async move {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                )
                .fetch_one(&watcher)
                .await
                .ok()?;
                (waiting > 0).then_some(())
            }
        },
    )
    .await;
    tx.commit().await.unwrap();
    assert_eq!(b.await.unwrap(), 201);
    let first = sse.next().await;
    assert_eq!(first.id, Some(cursor_a.to_string()));
    assert_eq!(first.json()["id"], id_a.to_string());
    let second = sse.next().await;
    assert_eq!(second.id, Some((cursor_a + 1).to_string()));
    assert_eq!(second.json()["op"], "created");
}
