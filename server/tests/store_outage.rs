//! Backend outages under load: while Redis or PostgreSQL is down, every request answers a 503
//! JSON error within a bounded time (never a hang, never a 500), `/readyz` fails, and the store
//! recovers by itself when the server is back.
mod support_services;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use sa_server::store::BackendKind;
use serde_json::{json, Value};
use support_services::{store::TestStore, Postgres, Redis};

/// The store's backend timeout in these tests is 1 s; allow for scheduling on a busy machine.
const BOUND: Duration = Duration::from_secs(4);

trait Outage {
    fn stop(&mut self);
    fn resume(&mut self);
}

impl Outage for Redis {
    fn stop(&mut self) {
        Redis::stop(self)
    }
    fn resume(&mut self) {
        Redis::resume(self)
    }
}

impl Outage for Postgres {
    fn stop(&mut self) {
        Postgres::stop(self)
    }
    fn resume(&mut self) {
        Postgres::resume(self)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Before,
    Down,
    After,
}

struct Sample {
    phase: Phase,
    at: Instant,
    status: u16,
    took: Duration,
    code: Option<String>,
}

async fn ok_write(s: &TestStore) -> bool {
    matches!(s.post_json("/api/model", &json!({"name": "probe"})).send().await, Ok(r) if r.status() == 201)
}

async fn outage_under_load(s: &TestStore, service: &mut dyn Outage) {
    assert!(ok_write(s).await);
    assert_eq!(
        s.http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );
    let phase = Arc::new(Mutex::new(Phase::Before));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..8)
        .map(|i| {
            let (http, base, token) = (s.http.clone(), s.base.clone(), s.writer.clone());
            let (phase, samples, stop) = (phase.clone(), samples.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Ordering::SeqCst) && n < 5000 {
                    n += 1;
                    let p = *phase.lock().unwrap();
                    let req = match n % 3 {
                        0 => http
                            .post(format!("{base}/api/model"))
                            .json(&json!({"name": format!("load {i}")})),
                        1 => http.get(format!("{base}/api/model?view=summary&limit=20")),
                        _ => http.get(format!("{base}/api/model/{}", uuid::Uuid::new_v4())),
                    };
                    let start = Instant::now();
                    let (status, code) = match req.bearer_auth(&token).send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: Option<Value> = r.json().await.ok();
                            (
                                status,
                                body.and_then(|b| b["error"]["code"].as_str().map(str::to_string)),
                            )
                        }
                        Err(_) => (0, None),
                    };
                    samples.lock().unwrap().push(Sample {
                        phase: p,
                        at: start,
                        status,
                        took: start.elapsed(),
                        code,
                    });
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    service.stop();
    let t0 = Instant::now();
    // Requests that started before the server was fully down are counted as "before".
    *phase.lock().unwrap() = Phase::Down;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let start = Instant::now();
    let ready = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz while the backend is down");
    assert!(start.elapsed() < BOUND);
    assert_eq!(
        ready.json::<Value>().await.unwrap()["error"]["code"],
        "backend_unavailable"
    );

    *phase.lock().unwrap() = Phase::After;
    let resumed = Instant::now();
    service.resume();
    let start = Instant::now();
    while !ok_write(s).await {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the store did not recover after the backend came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.await.unwrap();
    }

    let samples = samples.lock().unwrap();
    for smp in samples.iter() {
        assert_ne!(
            smp.status, 0,
            "a request failed at the HTTP level (hang or reset) in phase {:?}",
            smp.phase
        );
        assert!(
            smp.status < 500 || smp.status == 503,
            "status {} in phase {:?}",
            smp.status,
            smp.phase
        );
        assert!(
            smp.took < BOUND,
            "a request took {:?} in phase {:?}",
            smp.took,
            smp.phase
        );
        if smp.status == 503 {
            assert_eq!(smp.code.as_deref(), Some("backend_unavailable"));
        }
    }
    // A request that started during the outage may still succeed if the server came back
    // within the backend timeout; one that also ended during the outage must be a 503.
    let down: Vec<&Sample> = samples
        .iter()
        .filter(|x| x.phase == Phase::Down && x.at + x.took < resumed)
        .collect();
    assert!(
        down.len() >= 8,
        "too few requests during the outage: {}",
        down.len()
    );
    let not_503: Vec<(u16, Duration)> = down
        .iter()
        .filter(|x| x.status != 503)
        .map(|x| (x.status, x.at.duration_since(t0)))
        .collect();
    assert!(
        not_503.is_empty(),
        "requests during the outage answered {not_503:?} instead of 503"
    );
    assert!(samples
        .iter()
        .any(|x| x.phase == Phase::Before && x.status < 300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_answers_503_and_recovers() {
    let mut redis = Redis::start();
    let store = TestStore::start(BackendKind::Redis, |a| a.redis_url = Some(redis.url())).await;
    outage_under_load(&store, &mut redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_answers_503_and_recovers() {
    let mut pg = Postgres::start();
    let url = pg.create_database("outage");
    let store = TestStore::start(BackendKind::Postgres, |a| a.database_url = Some(url)).await;
    outage_under_load(&store, &mut pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_starts_while_its_backend_is_down() {
    // Nothing listens on this port yet: the store starts anyway and answers 503 until it does.
    let mut redis = Redis::start();
    redis.stop();
    let store = TestStore::start(BackendKind::Redis, |a| a.redis_url = Some(redis.url())).await;
    let start = Instant::now();
    let res = store.get("/api/model").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(start.elapsed() < BOUND);
    redis.resume();
    let start = Instant::now();
    while !ok_write(&store).await {
        assert!(start.elapsed() < Duration::from_secs(20), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
