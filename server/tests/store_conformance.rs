//! One conformance suite, run unchanged against every backend: the file store, and real
//! `redis-server` and PostgreSQL instances that the harness starts on free ports. Each case is
//! its own test per backend (`file::crud`, `redis::crud`, …), so the first failure hides nothing.

mod support;
use std::collections::HashSet;

use reqwest::{header, StatusCode};
use sa_server::store::BackendKind;
use sa_shared::history::FEED_CURSOR_HEADER as FEED_CURSOR;
use serde_json::{json, Value};
use support::services::{
    backends::Env,
    sse::{Sse, SseEvent},
    store::{expect_error, TestStore},
};

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let env = super::Env::new(super::BackendKind::File).await;
                    super::$case(&env).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let env = super::Env::new(super::BackendKind::Redis).await;
                    super::$case(&env).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let env = super::Env::new(super::BackendKind::Postgres).await;
                    super::$case(&env).await;
                }
            )*
        }
    };
}

conformance!(
    system_routes,
    crud,
    etag_conflicts,
    pagination_while_writing,
    search,
    concurrent_writers,
    bad_inputs,
    urls_and_cors,
    history_order,
    keep_versions_trimming,
    restore_with_if_match,
    restore_deleted_model,
    deleted_view,
    history_bad_inputs,
    feed_live_events,
    feed_resume_by_cursor,
    feed_from_the_lists_cursor,
    feed_reset,
    feed_share_token_filter,
    feed_bad_inputs,
    feed_max_subscribers,
);

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

async fn system_routes(s: &Env) {
    let backend = s.backend;
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

// ---- history ----

async fn versions(s: &TestStore, id: &str, query: &str) -> Value {
    let res = s
        .get(&format!("/api/model/{id}/versions{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "versions of {id}{query}");
    res.json().await.unwrap()
}

fn unquoted(tag: &str) -> String {
    tag.trim_matches('"').to_string()
}

fn field(v: &Value, key: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

async fn history_order(s: &Env) {
    let c = create(s, &json!({"name": "h", "v": 1})).await;
    let e2 = etag(&put(s, &c.id, &json!({"name": "h", "v": 2}), Some(&c.etag)).await);
    let e3 = etag(&put(s, &c.id, &json!({"name": "h", "v": 3}), Some(&e2)).await);
    let all = versions(s, &c.id, "").await;
    assert_eq!(
        field(&all, "etag"),
        [unquoted(&e3), unquoted(&e2), unquoted(&c.etag)]
    );
    assert_eq!(field(&all, "op"), ["updated", "updated", "created"]);
    assert_eq!(all["next"], Value::Null);
    let times: Vec<time::OffsetDateTime> = field(&all, "updated")
        .iter()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .expect("updated is RFC 3339")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for item in all["items"].as_array().unwrap() {
        assert_eq!(item["by"], json!({"sub": "u-1", "name": "Test User"}));
        assert!(item["size"].as_u64().unwrap() > 5);
    }
    // Cursor paging, newest first.
    let first = versions(s, &c.id, "?limit=2").await;
    assert_eq!(field(&first, "etag"), [unquoted(&e3), unquoted(&e2)]);
    let next = first["next"].as_str().expect("a next cursor").to_string();
    let rest = versions(s, &c.id, &format!("?limit=2&after={next}")).await;
    assert_eq!(field(&rest, "etag"), [unquoted(&c.etag)]);
    assert_eq!(rest["next"], Value::Null);
    // Each version's document, with its ETag; quotes around the ETag in the path are fine.
    for (tag, v) in [(&c.etag, 1), (&e2, 2), (&e3, 3)] {
        for path_tag in [unquoted(tag), format!("%22{}%22", unquoted(tag))] {
            let res = s
                .get(&format!("/api/model/{}/versions/{path_tag}", c.id))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(etag(&res), *tag);
            assert_eq!(res.json::<Value>().await.unwrap()["v"], v);
        }
    }
}

async fn keep_versions_trimming(s: &Env) {
    let s = s.another(|a| a.history.keep_versions = Some(3)).await;
    let c = create(&s, &json!({"name": "trim", "v": 0})).await;
    let mut tags = vec![c.etag.clone()];
    for v in 1..=5 {
        let res = put(
            &s,
            &c.id,
            &json!({"name": "trim", "v": v}),
            tags.last().map(|t| t.as_str()),
        )
        .await;
        assert_eq!(res.status(), 200);
        tags.push(etag(&res));
    }
    let kept = versions(&s, &c.id, "").await;
    let want: Vec<String> = tags.iter().rev().take(3).map(|t| unquoted(t)).collect();
    assert_eq!(field(&kept, "etag"), want);
    for old in &tags[..3] {
        assert_eq!(
            expect_error(
                s.get(&format!("/api/model/{}/versions/{}", c.id, unquoted(old)))
                    .send()
                    .await
                    .unwrap(),
                404
            )
            .await,
            "not_found"
        );
    }
    let res = s
        .get(&format!(
            "/api/model/{}/versions/{}",
            c.id,
            unquoted(&tags[3])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["v"], 3);
}

async fn restore(s: &TestStore, id: &str, tag: &str, if_match: Option<&str>) -> reqwest::Response {
    let mut req = s
        .http
        .post(s.url(&format!(
            "/api/model/{id}/versions/{}/restore",
            unquoted(tag)
        )))
        .bearer_auth(&s.writer);
    if let Some(m) = if_match {
        req = req.header(header::IF_MATCH, m);
    }
    req.send().await.unwrap()
}

async fn restore_with_if_match(s: &Env) {
    let v1 = json!({"name": "r", "v": 1});
    let c = create(s, &v1).await;
    let e2 = etag(&put(s, &c.id, &json!({"name": "r", "v": 2}), Some(&c.etag)).await);
    let as_reader = s
        .http
        .post(s.url(&format!(
            "/api/model/{}/versions/{}/restore",
            c.id,
            unquoted(&c.etag)
        )))
        .bearer_auth(&s.reader)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(as_reader, 403).await, "read_only");
    assert_eq!(
        expect_error(restore(s, &c.id, &c.etag, Some("\"stale\"")).await, 412).await,
        "etag_mismatch"
    );
    let res = restore(s, &c.id, &c.etag, Some(&e2)).await;
    assert_eq!(res.status(), 200);
    let restored = etag(&res);
    let got = s.get(&format!("/api/model/{}", c.id)).send().await.unwrap();
    assert_eq!(etag(&got), restored);
    assert_eq!(got.json::<Value>().await.unwrap()["v"], 1);
    let all = versions(s, &c.id, "").await;
    assert_eq!(field(&all, "op"), ["restored", "updated", "created"]);
    assert_eq!(field(&all, "etag")[0], unquoted(&restored));
    // Without If-Match a restore is unconditional.
    assert_eq!(restore(s, &c.id, &e2, None).await.status(), 200);
    let got: Value = s
        .get(&format!("/api/model/{}", c.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["v"], 2);
}

async fn restore_deleted_model(s: &Env) {
    let c = create(s, &json!({"name": "gone soon", "v": 1})).await;
    let e2 = etag(
        &put(
            s,
            &c.id,
            &json!({"name": "gone soon", "v": 2}),
            Some(&c.etag),
        )
        .await,
    );
    assert_eq!(
        s.delete(&format!("/api/model/{}", c.id))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    expect_error(
        s.get(&format!("/api/model/{}", c.id)).send().await.unwrap(),
        404,
    )
    .await;
    let all = versions(s, &c.id, "").await;
    assert_eq!(field(&all, "op"), ["deleted", "updated", "created"]);
    assert_eq!(
        field(&all, "etag")[0],
        unquoted(&e2),
        "a delete names what it removed"
    );
    let res = restore(s, &c.id, &e2, None).await;
    assert_eq!(res.status(), 200);
    let back = s.get(&format!("/api/model/{}", c.id)).send().await.unwrap();
    assert_eq!(back.status(), 200);
    assert_eq!(back.json::<Value>().await.unwrap()["v"], 2);
    let deleted = summary_view(s, "deleted", "").await;
    assert!(!field(&deleted, "id").contains(&c.id));
    assert!(field(&summary_view(s, "summary", "limit=1000").await, "id").contains(&c.id));
    assert_eq!(
        field(&versions(s, &c.id, "").await, "op"),
        ["restored", "deleted", "updated", "created"]
    );
}

async fn summary_view(s: &TestStore, view: &str, query: &str) -> Value {
    let res = s
        .get(&format!("/api/model?view={view}&{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "view={view}&{query}");
    res.json().await.unwrap()
}

async fn deleted_view(s: &Env) {
    let a = create(s, &json!({"name": "deleted one"})).await;
    let b = create(s, &json!({"name": "deleted two"})).await;
    let kept = create(s, &json!({"name": "kept"})).await;
    for id in [&a.id, &b.id] {
        assert_eq!(
            s.delete(&format!("/api/model/{id}"))
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
    }
    let page = summary_view(s, "deleted", "").await;
    assert_eq!(page["total"], 2);
    assert_eq!(
        field(&page, "id"),
        [b.id.clone(), a.id.clone()],
        "newest first"
    );
    let row = &page["items"][1];
    assert_eq!(row["name"], "deleted one");
    assert_eq!(row["url"], a.url.as_str());
    assert_eq!(row["etag"], unquoted(&a.etag).as_str());
    assert!(row["size"].as_u64().unwrap() > 5);
    // Paged like the summary view, and searchable.
    let first = summary_view(s, "deleted", "limit=1").await;
    assert_eq!(field(&first, "id"), [b.id.as_str()]);
    let next = first["next"].as_str().unwrap();
    let second = summary_view(s, "deleted", &format!("limit=1&after={next}")).await;
    assert_eq!(field(&second, "id"), [a.id.as_str()]);
    assert_eq!(second["next"], Value::Null);
    let found = summary_view(s, "deleted", "q=TWO").await;
    assert_eq!(field(&found, "id"), [b.id.as_str()]);
    let live = summary_view(s, "summary", "limit=1000").await;
    assert_eq!(field(&live, "id"), [kept.id.as_str()]);
}

async fn history_bad_inputs(s: &Env) {
    let a = create(s, &json!({"name": "a"})).await;
    let b = create(s, &json!({"name": "b"})).await;
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/model/{unknown}/versions"),
        format!("/api/model/{unknown}/versions/{}", unquoted(&a.etag)),
        format!("/api/model/{}/versions/nosuchetag", a.id),
        // a version of another model
        format!("/api/model/{}/versions/{}", b.id, unquoted(&a.etag)),
    ] {
        assert_eq!(
            expect_error(s.get(&path).send().await.unwrap(), 404).await,
            "not_found",
            "{path}"
        );
    }
    for (id, tag) in [
        (unknown.to_string(), a.etag.clone()),
        (a.id.clone(), "\"nosuch\"".into()),
        (b.id.clone(), a.etag.clone()),
    ] {
        assert_eq!(
            expect_error(restore(s, &id, &tag, None).await, 404).await,
            "not_found"
        );
    }
    for (path, code) in [
        ("/api/model/not-a-uuid/versions".to_string(), "bad_id"),
        (
            format!("/api/model/not-a-uuid/versions/{}", unquoted(&a.etag)),
            "bad_id",
        ),
        (
            format!("/api/model/{}/versions?after=garbage!", a.id),
            "bad_cursor",
        ),
        (format!("/api/model/{}/versions?limit=0", a.id), "bad_limit"),
        (format!("/api/model/{}/versions?limit=x", a.id), "bad_limit"),
        (
            "/api/model?view=deleted&after=garbage!".to_string(),
            "bad_cursor",
        ),
        ("/api/model?view=deleted&limit=0".to_string(), "bad_limit"),
    ] {
        assert_eq!(
            expect_error(s.get(&path).send().await.unwrap(), 400).await,
            code,
            "{path}"
        );
    }
    assert_eq!(
        expect_error(
            s.http
                .post(s.url("/api/model/not-a-uuid/versions/x/restore"))
                .bearer_auth(&s.writer)
                .send()
                .await
                .unwrap(),
            400
        )
        .await,
        "bad_id"
    );
    expect_error(
        s.http
            .get(s.url(&format!("/api/model/{}/versions", a.id)))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

// ---- change feed ----

async fn feed(s: &TestStore, query: &str) -> Sse {
    Sse::open(
        s.http
            .get(s.url(&format!("/api/changes{query}")))
            .bearer_auth(&s.reader),
    )
    .await
}

async fn next_change(sse: &mut Sse) -> (SseEvent, Value) {
    let e = sse.next().await;
    assert_eq!(e.event, "change", "{e:?}");
    let data = e.json();
    assert_eq!(
        e.id.as_deref(),
        data["cursor"].as_str(),
        "id: is the cursor"
    );
    (e, data)
}

async fn feed_live_events(s: &Env) {
    let mut sse = feed(s, "").await;
    // EventSource can't send headers: the token may come in the query.
    let mut by_query = Sse::open(
        s.http
            .get(s.url(&format!("/api/changes?access_token={}", s.reader))),
    )
    .await;
    let c = create(s, &json!({"name": "live"})).await;
    let e2 = etag(&put(s, &c.id, &json!({"name": "live", "v": 2}), None).await);
    assert_eq!(
        s.delete(&format!("/api/model/{}", c.id))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let mut cursors = Vec::new();
    for (op, tag) in [("created", &c.etag), ("updated", &e2), ("deleted", &e2)] {
        let (e, data) = next_change(&mut sse).await;
        assert_eq!(data["id"], c.id.as_str());
        assert_eq!(data["op"], op);
        assert_eq!(data["etag"], tag.as_str(), "the quoted ETag");
        assert_eq!(data["by"], json!({"sub": "u-1", "name": "Test User"}));
        time::OffsetDateTime::parse(
            data["updated"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        cursors.push(e.id.unwrap());
        let (_, same) = next_change(&mut by_query).await;
        assert_eq!(same, data);
    }
    assert_eq!(cursors.iter().collect::<HashSet<_>>().len(), 3);
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sa_store_feed_subscribers"), "{metrics}");
    assert!(
        metrics.contains("sa_store_feed_events_sent_total"),
        "{metrics}"
    );
}

async fn feed_resume_by_cursor(s: &Env) {
    let mut sse = feed(s, "").await;
    let mut ids = Vec::new();
    let mut later: Vec<(String, String)> = Vec::new();
    for i in 0..3 {
        ids.push(create(s, &json!({"name": format!("resume {i}")})).await.id);
    }
    let mut cursors = Vec::new();
    for id in &ids {
        let (e, data) = next_change(&mut sse).await;
        assert_eq!(data["id"], id.as_str());
        cursors.push(e.id.unwrap());
    }
    drop(sse);
    for by_header in [true, false] {
        let mut resumed = if by_header {
            Sse::open(
                s.http
                    .get(s.url("/api/changes"))
                    .bearer_auth(&s.reader)
                    .header("last-event-id", &cursors[0]),
            )
            .await
        } else {
            feed(s, &format!("?after={}", cursors[0])).await
        };
        let mut expected: Vec<(String, String)> = ids[1..3]
            .iter()
            .cloned()
            .zip(cursors[1..].iter().cloned())
            .collect();
        // What the previous round wrote after these cursors comes too, in order.
        expected.extend(later.iter().cloned());
        for (id, cursor) in &expected {
            let (e, data) = next_change(&mut resumed).await;
            assert_eq!(data["id"], id.as_str());
            assert_eq!(e.id.as_ref(), Some(cursor));
        }
        // Then live, with nothing repeated.
        let fresh = create(s, &json!({"name": "after resume"})).await;
        let (e, data) = next_change(&mut resumed).await;
        assert_eq!(data["id"], fresh.id.as_str());
        later.push((fresh.id, e.id.unwrap()));
    }
}

/// The first page of a summary list says where the feed stood just before it was read; a feed
/// opened from there later still gets a write made between the two, which a feed opened
/// without a cursor would never send. Later pages carry no cursor.
async fn feed_from_the_lists_cursor(s: &Env) {
    create(s, &json!({"name": "older"})).await;
    create(s, &json!({"name": "listed"})).await;
    let first = s
        .get("/api/model?view=summary&limit=1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let cursor = first
        .headers()
        .get(FEED_CURSOR)
        .expect("the first page carries the feed's cursor")
        .to_str()
        .unwrap()
        .to_string();
    let page: Value = first.json().await.unwrap();
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["listed"]);
    // Written after the list was read, before any feed is open.
    let missed = create(s, &json!({"name": "between"})).await;

    let mut sse = feed(s, &format!("?after={cursor}")).await;
    let (_, data) = next_change(&mut sse).await;
    assert_eq!(data["id"], missed.id.as_str());
    assert_eq!(data["op"], "created");

    let next = page["next"].as_str().expect("a second page");
    let later = s
        .get(&format!("/api/model?view=summary&limit=1&after={next}"))
        .send()
        .await
        .unwrap();
    assert_eq!(later.status(), StatusCode::OK);
    assert!(later.headers().get(FEED_CURSOR).is_none());
    // A browser on another origin may read it.
    let cors = s
        .get("/api/model?view=summary&limit=1")
        .header(header::ORIGIN, "http://client.sa.localhost:8080")
        .send()
        .await
        .unwrap();
    let exposed = cors.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains(FEED_CURSOR), "{exposed}");
}

async fn feed_reset(s: &Env) {
    let s = s.another(|a| a.history.keep_changes = 3).await;
    let mut sse = feed(&s, "").await;
    create(&s, &json!({"name": "old"})).await;
    let (first, _) = next_change(&mut sse).await;
    // One write at a time, each seen live before the next: the feed's own reader never falls
    // more than one change behind, so the trim (3 kept) cannot overtake it. It is past the
    // trimmed range once the live feed has passed them.
    for i in 0..5 {
        create(&s, &json!({"name": format!("newer {i}")})).await;
        next_change(&mut sse).await;
    }
    let mut resumed = feed(&s, &format!("?after={}", first.id.unwrap())).await;
    let e = resumed.next().await;
    assert_eq!(e.event, "reset", "{e:?}");
    // The reset's id is where to resume after reloading: from there on, the live feed.
    let id = e.id.expect("a reset carries the cursor to resume from");
    let mut again = feed(&s, &format!("?after={id}")).await;
    let fresh = create(&s, &json!({"name": "after reset"})).await;
    let (_, data) = next_change(&mut again).await;
    assert_eq!(data["id"], fresh.id.as_str());
}

async fn feed_share_token_filter(s: &Env) {
    let mine = create(s, &json!({"name": "shared"})).await;
    let other = create(s, &json!({"name": "not shared"})).await;
    let mut claims = s.issuer.claims(&["reader"]);
    claims["model"] = json!(mine.id);
    let share = s.issuer.sign(&claims);
    let mut sse = Sse::open(
        s.http
            .get(s.url(&format!("/api/changes?access_token={share}"))),
    )
    .await;
    put(s, &other.id, &json!({"name": "not shared", "v": 2}), None).await;
    put(s, &mine.id, &json!({"name": "shared", "v": 2}), None).await;
    let (_, data) = next_change(&mut sse).await;
    assert_eq!(
        data["id"],
        mine.id.as_str(),
        "a share token sees only its model"
    );
    // The share token still reads nothing else.
    expect_error(
        s.http
            .get(s.url(&format!("/api/model?access_token={share}")))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}

async fn feed_bad_inputs(s: &Env) {
    let foreign = if s.kind == BackendKind::Redis {
        "42"
    } else {
        "1-0"
    };
    for bad in ["garbage!", "-1", "1-2-3", foreign] {
        assert_eq!(
            expect_error(
                s.get(&format!("/api/changes?after={bad}"))
                    .send()
                    .await
                    .unwrap(),
                400
            )
            .await,
            "bad_cursor",
            "{bad}"
        );
        assert_eq!(
            expect_error(
                s.get("/api/changes")
                    .header("last-event-id", bad)
                    .send()
                    .await
                    .unwrap(),
                400
            )
            .await,
            "bad_cursor",
            "Last-Event-ID {bad}"
        );
    }
    assert_eq!(
        expect_error(s.http.get(s.url("/api/changes")).send().await.unwrap(), 401).await,
        "missing_token"
    );
    expect_error(
        s.http
            .post(s.url("/api/changes"))
            .bearer_auth(&s.writer)
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
}

async fn feed_max_subscribers(s: &Env) {
    let s = s.another(|a| a.history.max_subscribers = 2).await;
    let one = feed(&s, "").await;
    let _two = feed(&s, "").await;
    let res = s.get("/api/changes").send().await.unwrap();
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(expect_error(res, 503).await, "too_many_subscribers");
    drop(one);
    let http = s.http.clone();
    let (url, token) = (s.url("/api/changes"), s.reader.clone());
    support::eventually::eventually_within(
        "a freed subscriber slot",
        std::time::Duration::from_secs(10),
        || {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            async move {
                let res = http.get(url).bearer_auth(token).send().await.ok()?;
                (res.status() == 200).then_some(())
            }
        },
    )
    .await;
}
