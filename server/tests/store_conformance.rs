//! One conformance suite, run unchanged against every backend: the file store, and real
//! `redis-server` and PostgreSQL instances that the harness starts on free ports.
mod support_services;

use std::collections::HashSet;

use reqwest::{header, StatusCode};
use sa_server::store::BackendKind;
use serde_json::{json, Value};
use support_services::{
    store::{expect_error, TestStore},
    Postgres, Redis,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_backend_conforms() {
    let store = TestStore::start(BackendKind::File, |_| {}).await;
    conformance(&store, "file").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_backend_conforms() {
    let redis = Redis::start();
    let store = TestStore::start(BackendKind::Redis, |a| a.redis_url = Some(redis.url())).await;
    conformance(&store, "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_backend_conforms() {
    let pg = Postgres::start();
    let url = pg.create_database("conformance");
    let store = TestStore::start(BackendKind::Postgres, |a| a.database_url = Some(url)).await;
    conformance(&store, "postgres").await;
}

async fn conformance(s: &TestStore, backend: &str) {
    system_routes(s, backend).await;
    crud(s).await;
    etag_conflicts(s).await;
    pagination_while_writing(s).await;
    search(s).await;
    concurrent_writers(s).await;
    bad_inputs(s).await;
    urls_and_cors(s).await;
}

struct Created {
    id: String,
    url: String,
    etag: String,
}

async fn create(s: &TestStore, doc: &Value) -> Created {
    let res = s.post_json("/api/model", doc).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "POST {doc}");
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_string();
    let location = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    let (id, url) = (
        body["id"].as_str().unwrap().to_string(),
        body["url"].as_str().unwrap().to_string(),
    );
    assert_eq!(location, url);
    Created { id, url, etag }
}

async fn put(s: &TestStore, id: &str, doc: &Value, if_match: Option<&str>) -> reqwest::Response {
    let mut req = s.put_json(&format!("/api/model/{id}"), doc);
    if let Some(tag) = if_match {
        req = req.header(header::IF_MATCH, tag);
    }
    req.send().await.unwrap()
}

fn etag(res: &reqwest::Response) -> String {
    res.headers()
        .get(header::ETAG)
        .expect("ETag header")
        .to_str()
        .unwrap()
        .to_string()
}

async fn summary_page(s: &TestStore, query: &str) -> Value {
    let res = s
        .get(&format!("/api/model?view=summary&{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "summary {query}");
    res.json().await.unwrap()
}

async fn system_routes(s: &TestStore, backend: &str) {
    let http = &s.http;
    assert_eq!(
        http.get(s.url("/healthz")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http.get(s.url("/readyz")).send().await.unwrap().status(),
        200
    );
    let info: Value = s
        .get("/api/info")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["backend"], backend);
    assert!(info["version"].as_str().is_some_and(|v| !v.is_empty()));
    let metrics = http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sa_store_http_requests_total"),
        "{metrics}"
    );
}

async fn crud(s: &TestStore) {
    let doc = json!({"name": "Alpha", "parts": [1, 2, 3], "nested": {"ok": true}});
    let c = create(s, &doc).await;
    assert_eq!(c.url, s.url(&format!("/api/model/{}", c.id)));
    uuid::Uuid::parse_str(&c.id).expect("ids are UUIDs");

    let res = s
        .http
        .get(&c.url)
        .bearer_auth(&s.reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(etag(&res), c.etag);
    assert_eq!(res.json::<Value>().await.unwrap(), doc);

    for tag in [
        c.etag.clone(),
        format!("W/{}", c.etag),
        "*".to_string(),
        format!("\"nope\", {}", c.etag),
    ] {
        let res = s
            .http
            .get(&c.url)
            .bearer_auth(&s.reader)
            .header(header::IF_NONE_MATCH, &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::NOT_MODIFIED,
            "If-None-Match {tag}"
        );
        assert_eq!(etag(&res), c.etag);
    }
    let res = s
        .http
        .get(&c.url)
        .bearer_auth(&s.reader)
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let urls: Vec<String> = s
        .get("/api/model")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        urls.contains(&c.url),
        "GET /api/model lists every model URL"
    );

    let page = summary_page(s, "limit=1000").await;
    let row = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == c.id.as_str())
        .expect("summary row")
        .clone();
    assert_eq!(row["name"], "Alpha");
    assert_eq!(row["url"], c.url.as_str());
    assert_eq!(format!("\"{}\"", row["etag"].as_str().unwrap()), c.etag);
    assert!(row["size"].as_u64().unwrap() > 10);
    time::OffsetDateTime::parse(
        row["updated"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("updated is RFC 3339");

    let doc2 = json!({"name": "Alpha 2", "parts": []});
    let res = put(s, &c.id, &doc2, Some(&c.etag)).await;
    assert_eq!(res.status(), 200);
    let e2 = etag(&res);
    assert_ne!(e2, c.etag);
    let got: Value = s
        .get(&format!("/api/model/{}", c.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, doc2);

    // A model without a string name shows its id.
    let unnamed = create(s, &json!({"name": 42})).await;
    let page = summary_page(s, "limit=1000").await;
    let row = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == unnamed.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["name"], unnamed.id.as_str());

    // PUT to a new id creates the model under that id.
    let fresh = uuid::Uuid::new_v4().to_string();
    let res = put(s, &fresh, &json!({"name": "put-created"}), None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()[header::LOCATION].to_str().unwrap(),
        s.url(&format!("/api/model/{fresh}"))
    );

    for id in [&c.id, &unnamed.id, &fresh] {
        assert_eq!(
            s.delete(&format!("/api/model/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        expect_error(
            s.get(&format!("/api/model/{}", c.id)).send().await.unwrap(),
            404
        )
        .await,
        "not_found"
    );
    assert_eq!(
        expect_error(
            s.delete(&format!("/api/model/{}", c.id))
                .send()
                .await
                .unwrap(),
            404
        )
        .await,
        "not_found"
    );
    let urls: Vec<String> = s
        .get("/api/model")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!urls.contains(&c.url));
}

async fn etag_conflicts(s: &TestStore) {
    let c = create(s, &json!({"name": "conflict", "v": 1})).await;
    let res = put(
        s,
        &c.id,
        &json!({"name": "conflict", "v": 2}),
        Some(&c.etag),
    )
    .await;
    assert_eq!(res.status(), 200);
    let e2 = etag(&res);
    // Someone else's stale ETag loses.
    assert_eq!(
        expect_error(
            put(
                s,
                &c.id,
                &json!({"name": "conflict", "v": 3}),
                Some(&c.etag)
            )
            .await,
            412
        )
        .await,
        "etag_mismatch"
    );
    assert_eq!(
        expect_error(
            s.delete(&format!("/api/model/{}", c.id))
                .header(header::IF_MATCH, &c.etag)
                .send()
                .await
                .unwrap(),
            412
        )
        .await,
        "etag_mismatch"
    );
    // A weak tag never satisfies If-Match.
    expect_error(
        put(s, &c.id, &json!({"v": 4}), Some(&format!("W/{e2}"))).await,
        412,
    )
    .await;
    // `*` means "it exists".
    let res = put(s, &c.id, &json!({"name": "conflict", "v": 5}), Some("*")).await;
    assert_eq!(res.status(), 200);
    let current = etag(&res);
    let missing = uuid::Uuid::new_v4().to_string();
    expect_error(put(s, &missing, &json!({"v": 1}), Some("*")).await, 412).await;
    expect_error(
        put(s, &missing, &json!({"v": 1}), Some(&current)).await,
        412,
    )
    .await;
    assert_eq!(
        expect_error(
            s.get(&format!("/api/model/{missing}"))
                .send()
                .await
                .unwrap(),
            404
        )
        .await,
        "not_found"
    );

    // 32 writers race with the same If-Match: exactly one wins.
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let req = s
                .put_json(
                    &format!("/api/model/{}", c.id),
                    &json!({"name": "conflict", "winner": i}),
                )
                .header(header::IF_MATCH, current.clone());
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        31,
        "{statuses:?}"
    );

    let now = etag(&s.get(&format!("/api/model/{}", c.id)).send().await.unwrap());
    assert_eq!(
        s.delete(&format!("/api/model/{}", c.id))
            .header(header::IF_MATCH, now)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
}

/// Walks the pages while models are created, updated and deleted between requests: every
/// model that exists throughout the walk appears exactly once.
async fn pagination_while_writing(s: &TestStore) {
    let mut initial = HashSet::new();
    for i in 0..30 {
        initial.insert(create(s, &json!({"name": format!("pgwalk {i}")})).await.id);
    }
    let first = summary_page(s, "q=pgwalk&limit=7").await;
    assert_eq!(first["total"], 30);
    for (q, limit) in [("q=pgwalk&", 7), ("", 11)] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let initial_list: Vec<&String> = initial.iter().collect();
        for round in 0..200 {
            let after = cursor
                .as_ref()
                .map(|c| format!("&after={c}"))
                .unwrap_or_default();
            let page = summary_page(s, &format!("{q}limit={limit}{after}")).await;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit);
            seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
            // Writes between pages: two new models, one update, one delete of a new model.
            let a = create(s, &json!({"name": format!("pgwalk new {round}a")})).await;
            create(s, &json!({"name": format!("pgwalk new {round}b")})).await;
            let victim = initial_list[round % initial_list.len()];
            assert_eq!(
                put(
                    s,
                    victim,
                    &json!({"name": format!("pgwalk updated {round}")}),
                    None
                )
                .await
                .status(),
                200
            );
            assert_eq!(
                s.delete(&format!("/api/model/{}", a.id))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                204
            );
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
            assert!(round < 199, "pagination did not end");
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "a model appeared twice in one walk"
        );
        let missing: Vec<_> = initial.iter().filter(|id| !unique.contains(id)).collect();
        assert!(missing.is_empty(), "models missed by the walk: {missing:?}");
    }
}

async fn search(s: &TestStore) {
    for name in ["XPump Station", "old xpump house", "Ärger-XPUMPE", "Valve"] {
        create(s, &json!({"name": name})).await;
    }
    let page = summary_page(s, "q=xPuMp").await;
    assert_eq!(page["total"], 3);
    let mut names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["XPump Station", "old xpump house", "Ärger-XPUMPE"]);
    assert_eq!(
        summary_page(s, "q=%C3%84RGER").await["total"],
        1,
        "case-insensitive beyond ASCII"
    );
    let none = summary_page(s, "q=zzz-no-such-model").await;
    assert_eq!(none, json!({"items": [], "next": null, "total": 0}));
    // Search pages like the full list.
    let mut seen = Vec::new();
    let mut after = String::new();
    for _ in 0..10 {
        let page = summary_page(s, &format!("q=xpump&limit=1{after}")).await;
        assert_eq!(page["total"], 3);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(n) => after = format!("&after={n}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

/// 32 concurrent writers, each creating and updating its own model; afterwards every
/// acknowledged write is there.
async fn concurrent_writers(s: &TestStore) {
    let tasks: Vec<_> = (0..32)
        .map(|w| {
            let (http, base, token) = (s.http.clone(), s.base.clone(), s.writer.clone());
            tokio::spawn(async move {
                let res = http
                    .post(format!("{base}/api/model"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("writer {w}"), "seq": 0}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let mut tag = etag(&res);
                let id = res.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let mut acked = 0;
                for seq in 1..=4 {
                    let res = http
                        .put(format!("{base}/api/model/{id}"))
                        .bearer_auth(&token)
                        .header(header::IF_MATCH, &tag)
                        .json(&json!({"name": format!("writer {w}"), "seq": seq}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200, "writer {w} seq {seq}");
                    tag = etag(&res);
                    acked = seq;
                }
                (id, acked, tag)
            })
        })
        .collect();
    for t in tasks {
        let (id, acked, tag) = t.await.unwrap();
        let res = s.get(&format!("/api/model/{id}")).send().await.unwrap();
        assert_eq!(etag(&res), tag);
        assert_eq!(res.json::<Value>().await.unwrap()["seq"], acked);
    }
}

async fn bad_inputs(s: &TestStore) {
    let http = &s.http;
    let url = s.url("/api/model");
    let existing = create(s, &json!({"name": "target"})).await;

    assert_eq!(
        expect_error(http.get(&url).send().await.unwrap(), 401).await,
        "missing_token"
    );
    assert_eq!(
        expect_error(
            http.post(&url)
                .bearer_auth(&s.reader)
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
            403
        )
        .await,
        "read_only"
    );

    let post = |ct: Option<&str>, body: Vec<u8>| {
        let mut r = http.post(&url).bearer_auth(&s.writer).body(body);
        if let Some(ct) = ct {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        r.send()
    };
    let json_ct = Some("application/json");
    assert_eq!(
        expect_error(post(Some("text/plain"), b"{}".to_vec()).await.unwrap(), 415).await,
        "unsupported_media_type"
    );
    assert_eq!(
        expect_error(post(None, b"{}".to_vec()).await.unwrap(), 415).await,
        "unsupported_media_type"
    );
    assert_eq!(
        expect_error(post(json_ct, b"{\"a\":".to_vec()).await.unwrap(), 400).await,
        "malformed_json"
    );
    assert_eq!(
        expect_error(post(json_ct, b"".to_vec()).await.unwrap(), 400).await,
        "malformed_json"
    );
    assert_eq!(
        expect_error(post(json_ct, vec![b'{', 0xff, b'}']).await.unwrap(), 400).await,
        "malformed_json"
    );
    for body in ["[1,2]", "null", "\"text\"", "42"] {
        assert_eq!(
            expect_error(post(json_ct, body.as_bytes().to_vec()).await.unwrap(), 400).await,
            "not_an_object",
            "{body}"
        );
    }
    assert_eq!(
        expect_error(
            post(json_ct, br#"{"a":"x\u0000y"}"#.to_vec())
                .await
                .unwrap(),
            400
        )
        .await,
        "nul_character"
    );
    let deep = format!("{}{}", "{\"a\":".repeat(300), "}".repeat(300));
    expect_error(post(json_ct, deep.into_bytes()).await.unwrap(), 400).await;
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024));
    // Several times: the 413 must reach a client that is still sending, not a reset connection.
    for _ in 0..5 {
        assert_eq!(
            expect_error(post(json_ct, big.clone().into_bytes()).await.unwrap(), 413).await,
            "body_too_large"
        );
        let res = http
            .put(s.url(&format!("/api/model/{}", existing.id)))
            .bearer_auth(&s.writer)
            .header(header::CONTENT_TYPE, "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        expect_error(res, 413).await;
    }
    // application/*+json is JSON too.
    assert_eq!(
        post(
            Some("application/vnd.sa.model+json; charset=utf-8"),
            b"{\"name\":\"vendor\"}".to_vec()
        )
        .await
        .unwrap()
        .status(),
        201
    );

    for path in [
        "/api/model/not-a-uuid",
        "/api/model/123",
        "/api/model/%20",
        "/api/model/%FF",
    ] {
        assert_eq!(
            expect_error(s.get(path).send().await.unwrap(), 400).await,
            "bad_id",
            "{path}"
        );
        assert_eq!(
            expect_error(s.put_json(path, &json!({})).send().await.unwrap(), 400).await,
            "bad_id"
        );
        assert_eq!(
            expect_error(s.delete(path).send().await.unwrap(), 400).await,
            "bad_id"
        );
    }
    for (query, code) in [
        ("view=summary&limit=0", "bad_limit"),
        ("view=summary&limit=abc", "bad_limit"),
        ("view=summary&limit=1000000", "bad_limit"),
        ("view=summary&after=garbage!", "bad_cursor"),
        ("view=summary&after=AAAA", "bad_cursor"),
        ("view=pictures", "bad_view"),
    ] {
        assert_eq!(
            expect_error(
                s.get(&format!("/api/model?{query}")).send().await.unwrap(),
                400
            )
            .await,
            code,
            "{query}"
        );
    }
    let long_q = "q".repeat(500);
    expect_error(
        s.get(&format!("/api/model?view=summary&q={long_q}"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(
        expect_error(s.get("/nothing/here").send().await.unwrap(), 404).await,
        "not_found"
    );
    assert_eq!(
        expect_error(
            http.patch(&url)
                .bearer_auth(&s.writer)
                .send()
                .await
                .unwrap(),
            405
        )
        .await,
        "method_not_allowed"
    );
    expect_error(
        s.get("/api/model")
            .header("x-forwarded-proto", "gopher")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    expect_error(
        s.get("/api/model")
            .header("x-forwarded-prefix", "/x\"><script>")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    expect_error(
        http.get(&url)
            .header(header::AUTHORIZATION, "Basic dXNlcjpwdw==")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    // The model is untouched by all of that.
    assert_eq!(
        s.get(&format!("/api/model/{}", existing.id))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!({"name": "target"})
    );
}

async fn urls_and_cors(s: &TestStore) {
    let res = s
        .post_json("/api/model", &json!({"name": "behind the gateway"}))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "store.sa.example.com")
        .header("x-forwarded-prefix", "/redis")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = s
        .get("/api/model")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "store.sa.example.com:443")
        .header("x-forwarded-prefix", "/redis")
        .send()
        .await
        .unwrap();
    let urls: Vec<String> = res.json().await.unwrap();
    assert!(
        urls.contains(&format!(
            "https://store.sa.example.com/redis/api/model/{id}"
        )),
        "{urls:?}"
    );
    let res = s
        .get("/api/model?view=summary&limit=1000")
        .header(header::HOST, "store.sa.localhost:80")
        .header(
            "x-envoy-original-path",
            "/sql/api/model?view=summary&limit=1000",
        )
        .send()
        .await
        .unwrap();
    let page: Value = res.json().await.unwrap();
    let row = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        row["url"],
        format!("http://store.sa.localhost/sql/api/model/{id}")
    );

    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/api/model"))
        .header(header::ORIGIN, "http://explorer.sa.localhost:8080")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,if-match,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(
        preflight.status().is_success(),
        "preflight: {}",
        preflight.status()
    );
    assert_eq!(
        preflight.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://explorer.sa.localhost:8080"
    );
    let allowed = preflight.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("if-match"),
        "{allowed}"
    );
    let res = s
        .get(&format!("/api/model/{id}"))
        .header(header::ORIGIN, "http://client.sa.localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://client.sa.localhost:8080"
    );
    assert!(res.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("etag"));
    assert_eq!(
        res.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
        "true"
    );
    let res = s
        .get(&format!("/api/model/{id}"))
        .header(header::ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none(),
        "a foreign origin gets no CORS grant"
    );
}
