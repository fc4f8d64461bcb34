//! Backend outages under load: while Redis or PostgreSQL is down, every request answers a 503
//! JSON error (never a hang, never a 500), `/readyz` fails, and the store recovers by itself
//! when the server is back.
//!
//! The phases are counted in requests, not in time: a fixed number of concurrent requests runs
//! to completion before the backend stops, while it is down, and after it is back.

mod support;
use std::time::Duration;

use sa_server::store::BackendKind;
use serde_json::{json, Value};
use support::services::{eventually, store::TestStore, Postgres, Redis};

/// Concurrent clients, and requests per client in each phase.
const CLIENTS: usize = 8;
const PER_CLIENT: usize = 6;

/// A hang guard, not a measurement: the store's backend timeout in these tests is 1 s, so a
/// request still open after this long is a hang.
const HANG: Duration = Duration::from_secs(15);

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

#[derive(Debug)]
struct Answer {
    /// 0 when the request failed at the HTTP level (reset, or open past the hang guard).
    status: u16,
    code: Option<String>,
}

async fn ok_write(s: &TestStore) -> bool {
    matches!(s.post_json("/api/model", &json!({"name": "probe"})).send().await, Ok(r) if r.status() == 201)
}

/// `CLIENTS` × `PER_CLIENT` requests (create, list, read), all run to completion.
async fn load(s: &TestStore) -> Vec<Answer> {
    let http = reqwest::Client::builder().timeout(HANG).build().unwrap();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (http, base, token) = (http.clone(), s.base.clone(), s.writer.clone());
            tokio::spawn(async move {
                let mut answers = Vec::with_capacity(PER_CLIENT);
                for n in 0..PER_CLIENT {
                    let req = match n % 3 {
                        0 => http
                            .post(format!("{base}/api/model"))
                            .json(&json!({"name": format!("load {i}")})),
                        1 => http.get(format!("{base}/api/model?view=summary&limit=20")),
                        _ => http.get(format!("{base}/api/model/{}", uuid::Uuid::new_v4())),
                    };
                    answers.push(match req.bearer_auth(&token).send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: Option<Value> = r.json().await.ok();
                            Answer {
                                status,
                                code: body
                                    .and_then(|b| b["error"]["code"].as_str().map(str::to_string)),
                            }
                        }
                        Err(_) => Answer {
                            status: 0,
                            code: None,
                        },
                    });
                }
                answers
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all
}

fn assert_no_5xx_but_503(phase: &str, answers: &[Answer]) {
    for a in answers {
        assert_ne!(a.status, 0, "a request hung or was reset {phase}");
        assert!(
            a.status < 500 || a.status == 503,
            "{phase}: status {}",
            a.status
        );
        if a.status == 503 {
            assert_eq!(a.code.as_deref(), Some("unavailable"), "{phase}");
        }
    }
}

async fn outage_under_load(s: &TestStore, service: &mut dyn Outage) {
    assert!(ok_write(s).await);
    assert_eq!(
        s.http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );

    let before = load(s).await;
    assert_no_5xx_but_503("before the outage", &before);
    assert!(
        before.iter().all(|a| a.status < 500),
        "a 5xx before the outage: {before:?}"
    );

    service.stop();
    let ready = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz while the backend is down");
    assert_eq!(
        ready.json::<Value>().await.unwrap()["error"]["code"],
        "unavailable"
    );
    // Every request that starts and ends while the backend is down must be a 503.
    let down = load(s).await;
    assert_eq!(down.len(), CLIENTS * PER_CLIENT);
    assert_no_5xx_but_503("during the outage", &down);
    let not_503: Vec<&Answer> = down.iter().filter(|a| a.status != 503).collect();
    assert!(
        not_503.is_empty(),
        "requests during the outage answered {not_503:?} instead of 503"
    );

    service.resume();
    eventually(
        "the store accepts writes again after the backend came back",
        || async { ok_write(s).await.then_some(()) },
    )
    .await;
    assert_eq!(
        s.http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );
    let after = load(s).await;
    assert_no_5xx_but_503("after the outage", &after);
    assert!(
        after.iter().any(|a| a.status == 201),
        "no write succeeded after the outage: {after:?}"
    );
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
    let res = store.get("/api/model").send().await.unwrap();
    assert_eq!(res.status(), 503);
    redis.resume();
    eventually("the store recovers once Redis is up", || async {
        ok_write(&store).await.then_some(())
    })
    .await;
}
