//! The mesh's rules in `sa-server dev`, each against a real running dev stack (file, Redis and
//! PostgreSQL stores, real auth and tokens): the canary header, the weighted split, the mobile
//! route, fault injection for tagged test traffic, and `x-sa-upstream` on every answer. The
//! rules come from `sa_shared::routes`, which the k8s tests hold the VirtualServices to.

mod support;
use std::{
    io::Write,
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
};

use reqwest::{header, Response};
use sa_server::dev;
use sa_shared::routes::{FAULT_HEADER, UPSTREAM_HEADER};
use serde_json::{json, Value};
use support::services::{Postgres, Redis};

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// Every access-log line the dev gateways of this test binary wrote.
fn access_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_env_filter("sa::access=info")
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Stack {
    port: u16,
    http: reqwest::Client,
    token: String,
    _redis: Redis,
    _pg: Postgres,
    _tmp: tempfile::TempDir,
}

impl Stack {
    async fn start(canary_weight: u8) -> Stack {
        access_log();
        let redis = Redis::start();
        let pg = Postgres::start();
        let database_url = pg.create_database("sa");
        let tmp = tempfile::tempdir().unwrap();
        for app in ["client", "explorer"] {
            let d = tmp.path().join("dist").join(app);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join("index.html"),
                format!("<!doctype html><p>app:{app}</p>"),
            )
            .unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let args = dev::Args {
            listen: addr,
            domain: "sa.localhost".into(),
            dist: tmp.path().join("dist"),
            data: tmp.path().join("data"),
            redis_url: Some(redis.url()),
            database_url: Some(database_url),
            public_port: None,
            layout: sa_shared::config::Layout::Standard,
            canary_weight,
        };
        dev::start(args, listener)
            .await
            .expect("dev gateway starts");
        let cost = sa_server::auth::passwords::Cost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        sa_server::auth::create_user(
            &tmp.path().join("data").join("auth"),
            None,
            "writer",
            "mesh-routes-secret-1",
            vec![sa_shared::auth::Role::Writer],
            cost,
        )
        .await
        .expect("add a writer");
        let mut stack = Stack {
            port: addr.port(),
            http: reqwest::Client::new(),
            token: String::new(),
            _redis: redis,
            _pg: pg,
            _tmp: tmp,
        };
        let res = stack
            .send("auth", reqwest::Method::POST, "/api/login", &[])
            .json(&json!({"username": "writer", "password": "mesh-routes-secret-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login");
        let t: sa_shared::auth::TokenResponse = res.json().await.unwrap();
        stack.token = t.access_token;
        stack
    }

    /// A request to `{sub}.sa.localhost` on loopback (getaddrinfo doesn't know *.localhost).
    fn send(
        &self,
        sub: &str,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let host = if sub.is_empty() {
            format!("127.0.0.1:{}", self.port)
        } else {
            format!("{sub}.sa.localhost:{}", self.port)
        };
        let mut r = self
            .http
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
            .header(header::HOST, host);
        if !self.token.is_empty() {
            r = r.bearer_auth(&self.token);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r
    }

    async fn get(&self, sub: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send(sub, reqwest::Method::GET, path, headers)
            .send()
            .await
            .unwrap()
    }

    async fn metrics(&self) -> String {
        self.get("", "/metrics", &[]).await.text().await.unwrap()
    }
}

fn upstream(r: &Response) -> String {
    r.headers()
        .get(UPSTREAM_HEADER)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {UPSTREAM_HEADER} on {}", r.url()))
}

fn fault(r: &Response) -> Option<String> {
    r.headers()
        .get(FAULT_HEADER)
        .map(|v| v.to_str().unwrap().to_string())
}

/// The value of `istio_requests_total` with exactly these label values, 0 when absent.
fn requests_total(metrics: &str, service: &str, version: &str, code: u16, flags: &str) -> u64 {
    let want = [
        format!("destination_service_name=\"{service}\""),
        format!("destination_version=\"{version}\""),
        format!("response_code=\"{code}\""),
        format!("response_flags=\"{flags}\""),
    ];
    metrics
        .lines()
        .filter(|l| l.starts_with("istio_requests_total{"))
        .filter(|l| want.iter().all(|w| l.contains(w.as_str())))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

const STORES: &[(&str, &str, &str)] = &[
    ("/file", "store-file", "file"),
    ("/redis", "store-redis", "redis"),
    ("/sql", "store-sql", "postgres"),
    ("", "store-file", "file"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_header_reaches_v2_of_every_store_on_the_same_data() {
    let s = Stack::start(0).await;
    for (prefix, service, backend) in STORES {
        let path = format!("{prefix}/api/info");
        let r = s.get("store", &path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(upstream(&r), format!("{service} v1"), "{path}");
        let info: Value = r.json().await.unwrap();
        assert_eq!(
            (info["backend"].as_str(), info["subset"].as_str()),
            (Some(*backend), Some("v1"))
        );

        let r = s.get("store", &path, &[("x-sa-channel", "canary")]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(upstream(&r), format!("{service} v2"), "{path}");
        let info: Value = r.json().await.unwrap();
        assert_eq!(
            (info["backend"].as_str(), info["subset"].as_str()),
            (Some(*backend), Some("v2"))
        );

        // Only the exact value is the canary channel.
        let r = s.get("store", &path, &[("x-sa-channel", "beta")]).await;
        assert_eq!(upstream(&r), format!("{service} v1"), "{path}");

        // v2 serves v1's data: a model written through v1 reads the same through v2.
        let created = s
            .send(
                "store",
                reqwest::Method::POST,
                &format!("{prefix}/api/model"),
                &[],
            )
            .json(&json!({"name": "shared"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{prefix}");
        assert_eq!(upstream(&created), format!("{service} v1"));
        let etag = created.headers()[header::ETAG].clone();
        let id = created.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let read = s
            .get(
                "store",
                &format!("{prefix}/api/model/{id}"),
                &[("x-sa-channel", "canary")],
            )
            .await;
        assert_eq!(read.status(), 200, "{prefix}");
        assert_eq!(upstream(&read), format!("{service} v2"));
        assert_eq!(read.headers()[header::ETAG], etag);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weight_10_sends_a_tenth_of_untagged_requests_to_v2() {
    let s = Stack::start(10).await;
    let mut v2 = 0;
    for _ in 0..2000 {
        let r = s.get("store", "/file/healthz", &[]).await;
        assert_eq!(r.status(), 200);
        match upstream(&r).as_str() {
            "store-file v2" => v2 += 1,
            "store-file v1" => {}
            other => panic!("untagged request went to {other}"),
        }
    }
    assert!((180..=220).contains(&v2), "{v2} of 2000 went to v2");
    // Tagged requests stay on their channel, whatever the weight.
    for _ in 0..20 {
        let r = s
            .get("store", "/file/healthz", &[("x-sa-channel", "canary")])
            .await;
        assert_eq!(upstream(&r), "store-file v2");
    }
    let m = s.metrics().await;
    assert_eq!(
        requests_total(&m, "store-file", "v2", 200, "-"),
        v2 + 20,
        "{m}"
    );
    assert_eq!(requests_total(&m, "store-file", "v1", 200, "-"), 2000 - v2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_user_agents_get_the_compact_config() {
    let s = Stack::start(0).await;
    for (ua, layout, subset) in [
        (IPHONE, "compact", "mobile"),
        (ANDROID, "compact", "mobile"),
        (DESKTOP, "standard", "standard"),
        ("", "standard", "standard"),
    ] {
        let r = s.get("client", "/config.json", &[("user-agent", ua)]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(upstream(&r), format!("client {subset}"), "{ua}");
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["layout"], layout, "{ua}");
    }
    // The explorer has no mobile route.
    let r = s
        .get("explorer", "/config.json", &[("user-agent", IPHONE)])
        .await;
    assert_eq!(upstream(&r), "explorer");
    assert_eq!(r.json::<Value>().await.unwrap()["layout"], "standard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_answers_503_without_reaching_the_store_only_when_tagged() {
    let s = Stack::start(0).await;
    for (prefix, service, _) in STORES {
        // `/api/` and `/file/` share the file store: a name per prefix.
        let probe = format!("abort-probe{prefix}");
        let post = |tag: Option<&'static str>| {
            let headers: Vec<(&str, &str)> = tag.map(|t| ("x-sa-test", t)).into_iter().collect();
            s.send(
                "store",
                reqwest::Method::POST,
                &format!("{prefix}/api/model"),
                &headers,
            )
            .json(&json!({"name": probe}))
            .send()
        };
        let r = post(Some("abort")).await.unwrap();
        assert_eq!(r.status(), 503, "{prefix}");
        assert_eq!(upstream(&r), format!("{service} v1"));
        assert_eq!(fault(&r).as_deref(), Some("abort"));
        let e: sa_shared::error::ErrorBody = r.json().await.unwrap();
        assert_eq!(e.error.code, "fault_injected");
        // Tagged otherwise, or not at all: the store answers.
        for tag in [None, Some("none")] {
            let r = post(tag).await.unwrap();
            assert_eq!(r.status(), 201, "{prefix} {tag:?}");
            assert_eq!(fault(&r), None);
        }
        let list = s
            .get("store", &format!("{prefix}/api/model?view=summary"), &[])
            .await;
        let page: Value = list.json().await.unwrap();
        let probes = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"] == probe.as_str())
            .count();
        assert_eq!(
            probes, 2,
            "{prefix}: the aborted write must not reach the store"
        );
    }
    let m = s.metrics().await;
    assert_eq!(requests_total(&m, "store-file", "v1", 503, "FI"), 2);
    assert_eq!(requests_total(&m, "store-redis", "v1", 503, "FI"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_applies_only_to_tagged_requests_and_then_reaches_v1() {
    let s = Stack::start(0).await;
    // The delay rule comes before the canary rule: a delayed canary request still goes to v1.
    let r = s
        .get(
            "store",
            "/sql/api/info",
            &[("x-sa-test", "delay"), ("x-sa-channel", "canary")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(upstream(&r), "store-sql v1");
    assert_eq!(fault(&r).as_deref(), Some("delay"));
    let r = s.get("store", "/sql/api/info", &[]).await;
    assert_eq!(fault(&r), None);
    let m = s.metrics().await;
    assert_eq!(requests_total(&m, "store-sql", "v1", 200, "DI"), 1);
    assert_eq!(requests_total(&m, "store-sql", "v1", 200, "-"), 1);
    // The time itself is shown on a paused clock in `delay_holds_two_seconds_on_a_paused_clock`.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_names_its_upstream_and_gets_one_access_log_line() {
    let s = Stack::start(0).await;
    let cases: &[(&str, &str, u16, &str)] = &[
        ("client", "/", 200, "client standard"),
        ("explorer", "/", 200, "explorer"),
        ("auth", "/.well-known/openid-configuration", 200, "auth"),
        ("store", "/redis/healthz", 200, "store-redis v1"),
        ("store", "/sql/readyz", 200, "store-sql v1"),
        ("store", "/file/readyz", 200, "store-file v1"),
        ("store", "/api/info", 200, "store-file v1"),
        ("store", "/elsewhere", 404, "gateway"),
        ("", "/", 200, "gateway"),
        ("nope", "/", 404, "gateway"),
    ];
    for (sub, path, status, want) in cases {
        let r = s.get(sub, path, &[]).await;
        assert_eq!(r.status(), *status, "{sub} {path}");
        assert_eq!(upstream(&r), *want, "{sub} {path}");
    }
    let log = String::from_utf8(access_log().lock().unwrap().clone()).unwrap();
    let mine: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!(":{}", s.port)))
        .collect();
    for (sub, path, status, want) in cases {
        let host = if sub.is_empty() {
            format!("127.0.0.1:{}", s.port)
        } else {
            format!("{sub}.sa.localhost:{}", s.port)
        };
        let lines: Vec<&&str> = mine
            .iter()
            .filter(|l| {
                l.contains(&format!(" host={host} ")) && l.contains(&format!(" path={path} "))
            })
            .collect();
        assert_eq!(lines.len(), 1, "one line for {host}{path}: {lines:#?}");
        let l = lines[0];
        for field in [
            "method=GET".to_string(),
            format!("status={status}"),
            format!("upstream={want}"),
            "duration_ms=".to_string(),
        ] {
            assert!(l.contains(&field), "{field} missing in {l}");
        }
    }
}

/// With tokio's clock paused, the gateway's delay is visible as virtual time: two seconds with
/// the test header, none without it.
#[tokio::test(start_paused = true)]
async fn delay_holds_two_seconds_on_a_paused_clock() {
    use tower::ServiceExt;
    let tmp = tempfile::tempdir().unwrap();
    for app in ["client", "explorer"] {
        let d = tmp.path().join("dist").join(app);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("index.html"), "<!doctype html>").unwrap();
    }
    let listen: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let args = dev::Args {
        listen,
        domain: "sa.localhost".into(),
        dist: tmp.path().join("dist"),
        data: tmp.path().join("data"),
        redis_url: None,
        database_url: None,
        public_port: None,
        layout: sa_shared::config::Layout::Standard,
        canary_weight: 0,
    };
    let ctx = dev::context(&args, listen);
    let router = dev::Gateway::build(&args, &ctx)
        .await
        .unwrap()
        .into_router();
    for (tag, at_least, below) in [
        (Some("delay"), 2000, u64::MAX),
        (None, 0, 2000),
        (Some("abort"), 0, 2000),
    ] {
        let mut req = axum::http::Request::get("/file/healthz")
            .header("host", "store.sa.localhost")
            .body(axum::body::Body::empty())
            .unwrap();
        if let Some(t) = tag {
            req.headers_mut().insert("x-sa-test", t.parse().unwrap());
        }
        let t0 = tokio::time::Instant::now();
        let res = router.clone().oneshot(req).await.unwrap();
        let ms = t0.elapsed().as_millis() as u64;
        assert!(
            (at_least..below).contains(&ms),
            "{tag:?}: {ms} ms of virtual time"
        );
        assert_eq!(
            res.headers().get(FAULT_HEADER).map(|v| v.to_str().unwrap()),
            tag
        );
    }
}
