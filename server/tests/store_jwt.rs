//! JWT verification with real keys: what is accepted, and every way a token is rejected.
//!
//! Three issuers are trusted side by side: sa's own (ES256, JWKS fetched from
//! `http://auth.sa.localhost:PORT/.well-known/jwks.json`, audience `sa`), an outside OIDC
//! provider (ES256, JWKS URL, no audience, default role `reader`) and Istio's sample issuer
//! (RS256, JWKS file from `tests/fixtures/istio-jwt`, default role `reader`).

mod support;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, StatusCode};
use sa_server::store::BackendKind;
use serde_json::{json, Value};
use support::services::{
    issuer::{now, JwksServer},
    store::{expect_error, TestStore},
    TestIssuer,
};

const ISTIO_ISSUER: &str = "testing@secure.istio.io";
const OUTSIDE_ISSUER: &str = "https://idp.example.org";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/istio-jwt")
        .join(name)
}

struct World {
    store: TestStore,
    outside: TestIssuer,
    outside_jwks: JwksServer,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let outside = TestIssuer::new(OUTSIDE_ISSUER, "idp-1", 9);
    let outside_jwks = JwksServer::start(vec![("/keys", TestIssuer::jwks(&[&outside]))]).await;
    let dir = tempfile::tempdir().unwrap();
    // The Istio JWKS sits beside the issuers file and is named relatively, as in a ConfigMap.
    std::fs::copy(fixture("jwks.json"), dir.path().join("istio-jwks.json")).unwrap();
    let issuers = json!([
        {"issuer": OUTSIDE_ISSUER, "jwksUri": format!("http://127.0.0.1:{}/keys", outside_jwks.addr.port()), "defaultRoles": ["reader"]},
        {"issuer": ISTIO_ISSUER, "jwks_file": "istio-jwks.json", "default_roles": ["reader"]}
    ]);
    let path = dir.path().join("issuers.json");
    std::fs::write(&path, issuers.to_string()).unwrap();
    let store = TestStore::start(BackendKind::File, |a| a.issuers_file = Some(path)).await;
    World {
        store,
        outside,
        outside_jwks,
        _dir: dir,
    }
}

async fn get_with(w: &World, token: &str, path: &str) -> reqwest::Response {
    w.store
        .http
        .get(w.store.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post_with(w: &World, token: &str) -> reqwest::Response {
    w.store
        .http
        .post(w.store.url("/api/model"))
        .bearer_auth(token)
        .json(&json!({"name": "jwt"}))
        .send()
        .await
        .unwrap()
}

async fn rejected(w: &World, token: &str, status: u16) -> String {
    expect_error(get_with(w, token, "/api/model").await, status).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_tokens() {
    let w = world().await;
    let s = &w.store;
    // sa's own token, twice (the second is served from the verified-token cache).
    for _ in 0..3 {
        assert_eq!(get_with(&w, &s.writer, "/api/model").await.status(), 200);
    }
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |outcome: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("sa_store_token_checks_total")
                    && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        count("valid"),
        1,
        "the signature is checked once:\n{metrics}"
    );
    assert_eq!(
        count("valid_cached"),
        2,
        "then the verified token comes from the cache"
    );
    assert_eq!(post_with(&w, &s.writer).await.status(), StatusCode::CREATED);
    assert_eq!(
        post_with(&w, &s.issuer.token(&["admin"])).await.status(),
        StatusCode::CREATED
    );

    // A second issuer side by side: no roles claim, so its default role (reader) applies.
    let outside = w
        .outside
        .sign(&json!({"iss": OUTSIDE_ISSUER, "sub": "someone", "exp": now() + 300}));
    assert_eq!(get_with(&w, &outside, "/api/model").await.status(), 200);
    assert_eq!(
        expect_error(post_with(&w, &outside).await, 403).await,
        "read_only"
    );
    let outside_writer = w.outside.sign(
        &json!({"iss": OUTSIDE_ISSUER, "sub": "someone", "roles": ["writer"], "exp": now() + 300}),
    );
    assert_eq!(
        post_with(&w, &outside_writer).await.status(),
        StatusCode::CREATED
    );

    // Istio's sample issuer (RS256, JWKS from a file).
    let demo = std::fs::read_to_string(fixture("demo.jwt")).unwrap();
    assert_eq!(get_with(&w, demo.trim(), "/api/model").await.status(), 200);
    assert_eq!(
        expect_error(post_with(&w, demo.trim()).await, 403).await,
        "read_only"
    );

    // Small clock skew is forgiven.
    let skewed = s.issuer.sign(&json!({"iss": s.issuer.iss, "aud": "sa", "sub": "u", "roles": ["reader"], "nbf": now() + 10, "exp": now() + 300}));
    assert_eq!(get_with(&w, &skewed, "/api/model").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_tokens() {
    let w = world().await;
    let s = &w.store;
    let iss = s.issuer.iss.clone();
    let good = s.issuer.claims(&["writer"]);
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };

    // alg none.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good.to_string().as_bytes())
    );
    assert_eq!(rejected(&w, &none, 401).await, "malformed_token");
    // HS256 "signed" with the issuer's public key (the classic key-confusion attack).
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(s.issuer.kid.clone());
    for secret in [
        s.issuer.public_key_bytes(),
        s.issuer.jwk().to_string().into_bytes(),
    ] {
        let token = jsonwebtoken::encode(&hs, &good, &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(rejected(&w, &token, 401).await, "algorithm_not_allowed");
    }
    // Expired, not yet valid, no exp at all.
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"exp": now() - 3600}))), 401).await,
        "token_expired"
    );
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"nbf": now() + 3600}))), 401).await,
        "token_not_yet_valid"
    );
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"exp": null}))), 401).await,
        "missing_claim"
    );
    // An issuer that is not configured, even with a trusted key.
    assert_eq!(
        rejected(
            &w,
            &s.issuer.sign(&with(json!({"iss": "https://evil.example"}))),
            401
        )
        .await,
        "unknown_issuer"
    );
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"iss": null}))), 401).await,
        "unknown_issuer"
    );
    // One issuer's key signing a token that names another: its kid is unknown there, and
    // borrowing the other issuer's kid doesn't make the signature verify.
    assert_eq!(
        rejected(&w, &w.outside.sign(&with(json!({"iss": iss}))), 401).await,
        "unknown_key"
    );
    assert_eq!(
        rejected(
            &w,
            &w.outside.sign_with_kid(&with(json!({})), &s.issuer.kid),
            401
        )
        .await,
        "bad_signature"
    );
    let outside_claims =
        json!({"iss": OUTSIDE_ISSUER, "sub": "x", "roles": ["writer"], "exp": now() + 300});
    assert_eq!(
        rejected(
            &w,
            &s.issuer.sign_with_kid(&outside_claims, &w.outside.kid),
            401
        )
        .await,
        "bad_signature"
    );
    // Wrong or missing audience (sa's issuer requires `sa`).
    assert_eq!(
        rejected(
            &w,
            &s.issuer.sign(&with(json!({"aud": "someone-else"}))),
            401
        )
        .await,
        "wrong_audience"
    );
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"aud": null}))), 401).await,
        "missing_claim"
    );
    // A kid the issuer never published.
    assert_eq!(
        rejected(&w, &s.issuer.sign_with_kid(&good, "no-such-key"), 401).await,
        "unknown_key"
    );
    // A key used with an algorithm it isn't for: ES256 against Istio's RSA key.
    let istio_kid = "DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ";
    let as_istio = s.issuer.sign_with_kid(
        &json!({"iss": ISTIO_ISSUER, "sub": "x", "exp": now() + 300}),
        istio_kid,
    );
    assert_eq!(rejected(&w, &as_istio, 401).await, "algorithm_mismatch");
    // Tampered payload: a reader promotes itself to admin, keeping the signature.
    let reader = s.issuer.token(&["reader"]);
    let parts: Vec<&str> = reader.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(with(json!({"roles": ["admin"]})).to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(rejected(&w, &tampered, 401).await, "bad_signature");
    // Garbage and a missing token.
    assert_eq!(rejected(&w, "not.a.jwt", 401).await, "malformed_token");
    assert_eq!(
        expect_error(s.http.get(s.url("/api/model")).send().await.unwrap(), 401).await,
        "missing_token"
    );
    let res = s.http.get(s.url("/api/model")).send().await.unwrap();
    assert!(res.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));

    // 403s: a reader writing, a token with no role at all.
    assert_eq!(
        expect_error(post_with(&w, &reader).await, 403).await,
        "read_only"
    );
    let res = s
        .http
        .delete(s.url(&format!("/api/model/{}", uuid::Uuid::new_v4())))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 403).await, "read_only");
    assert_eq!(
        rejected(&w, &s.issuer.sign(&with(json!({"roles": null}))), 403).await,
        "no_role"
    );
    assert_eq!(
        rejected(&w, &s.issuer.token(&["guest"]), 403).await,
        "no_role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_tokens_read_one_model() {
    let w = world().await;
    let s = &w.store;
    let mut ids = Vec::new();
    for name in ["shared", "private"] {
        let res = post_with(&w, &s.writer).await;
        assert_eq!(res.status(), 201, "{name}");
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let share = s.issuer.sign(&json!({"iss": s.issuer.iss, "aud": "sa", "sub": "u-1", "roles": ["reader"], "model": ids[0], "exp": now() + 300}));
    // The share link: a plain GET with ?access_token=, as a browser tab opens it.
    let res = s
        .http
        .get(s.url(&format!("/api/model/{}?access_token={share}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["name"], "jwt");
    assert_eq!(
        get_with(&w, &share, &format!("/api/model/{}", ids[0]))
            .await
            .status(),
        200
    );
    // Another model, the list, and any write are out of scope.
    let other = s
        .http
        .get(s.url(&format!("/api/model/{}?access_token={share}", ids[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(other, 403).await, "share_token_scope");
    assert_eq!(
        expect_error(get_with(&w, &share, "/api/model").await, 403).await,
        "share_token_scope"
    );
    let put = s
        .http
        .put(s.url(&format!("/api/model/{}", ids[0])))
        .bearer_auth(&share)
        .json(&json!({"name": "defaced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(put, 403).await, "share_token_scope");
    // ?access_token= is for GET only.
    let post = s
        .http
        .post(s.url(&format!("/api/model?access_token={}", s.writer)))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(post, 401).await, "missing_token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kids_refetch_the_jwks_at_a_bounded_rate() {
    let w = world().await;
    let s = &w.store;
    assert_eq!(get_with(&w, &s.writer, "/api/model").await.status(), 200);
    let outside = w
        .outside
        .sign(&json!({"iss": OUTSIDE_ISSUER, "sub": "x", "exp": now() + 300}));
    assert_eq!(get_with(&w, &outside, "/api/model").await.status(), 200);
    let before = w.outside_jwks.fetches();
    assert_eq!(before, 1, "the JWKS is fetched once, then cached");
    for i in 0..20 {
        let forged = w.outside.sign_with_kid(
            &json!({"iss": OUTSIDE_ISSUER, "sub": "x", "exp": now() + 300, "n": i}),
            &format!("made-up-{i}"),
        );
        assert_eq!(rejected(&w, &forged, 401).await, "unknown_key");
    }
    assert!(
        w.outside_jwks.fetches() <= before + 1,
        "20 unknown kids caused {} JWKS fetches",
        w.outside_jwks.fetches() - before
    );
    assert_eq!(s.jwks.fetches(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_that_starts_later_is_picked_up() {
    // The store starts before its issuer, as in `sa-server dev` or a cluster coming up.
    let port = support::services::free_port();
    let iss = format!("http://auth.sa.localhost:{port}");
    let issuer = TestIssuer::new(&iss, "late-1", 11);
    let iss2 = iss.clone();
    let s = TestStore::start(BackendKind::File, move |a| {
        a.issuer = Some(iss2.clone());
        a.jwks_url = Some(format!("{iss2}/.well-known/jwks.json"));
    })
    .await;
    let token = issuer.token(&["reader"]);
    let res = s
        .http
        .get(s.url("/api/model"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 503).await, "unavailable");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let _jwks = JwksServer::start_on(
        listener,
        vec![("/.well-known/jwks.json", TestIssuer::jwks(&[&issuer]))],
    )
    .await;
    let start = std::time::Instant::now();
    loop {
        let res = s
            .http
            .get(s.url("/api/model"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if res.status() == 200 {
            break;
        }
        assert_eq!(res.status(), 503);
        let body = res.text().await.unwrap();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "the late issuer's keys were not fetched: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
