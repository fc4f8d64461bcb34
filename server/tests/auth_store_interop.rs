//! Interop: tokens that the real auth service issues are verified by the real store, which knows
//! nothing but the issuer URL and its JWKS URL (fetched over HTTP from
//! `http://auth.sa.localhost:PORT/.well-known/jwks.json`). No code path is shared that could skip
//! the signature: a tampered or foreign-signed token is refused.

mod support;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use sa_server::store::{Args, BackendKind};
use sa_shared::auth::Role;
use serde_json::{json, Value};
use support::auth::{claims_unverified, test_config, Answer, ADMIN, ADMIN_PASSWORD, APP_ORIGIN};

struct World {
    auth_base: String,
    store_base: String,
    http: reqwest::Client,
    auth_dir: tempfile::TempDir,
    _store_dir: tempfile::TempDir,
}

async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = sa_server::serve::serve(listener, router).await;
    });
    addr
}

/// Auth on `auth.sa.localhost:PORT` (its issuer URL), and a file store trusting that issuer by
/// its JWKS URL alone.
async fn world() -> World {
    let auth_dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("http://auth.sa.localhost:{port}");
    let mut config = test_config(auth_dir.path(), &issuer);
    config.key_reload_interval = Duration::from_millis(100);
    sa_server::auth::create_user(
        auth_dir.path(),
        None,
        ADMIN,
        ADMIN_PASSWORD,
        vec![Role::Admin],
        config.argon2,
    )
    .await
    .unwrap();
    let auth = sa_server::auth::router(config).await.unwrap();
    tokio::spawn(async move {
        let _ = sa_server::serve::serve(listener, auth).await;
    });

    let store_dir = tempfile::tempdir().unwrap();
    let mut args = Args::new(BackendKind::File, store_dir.path().join("models"));
    args.issuer = Some(issuer.clone());
    args.jwks_url = Some(format!("{issuer}/.well-known/jwks.json"));
    args.audience = Some("sa".into());
    args.allowed_origins = vec![APP_ORIGIN.into()];
    let store = serve(sa_server::store::router(&args).await.expect("store starts")).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    World {
        auth_base: format!("http://127.0.0.1:{port}"),
        store_base: format!("http://{store}"),
        http,
        auth_dir,
        _store_dir: store_dir,
    }
}

impl World {
    async fn login(&self, user: &str, password: &str) -> (String, String) {
        let res = self
            .http
            .post(format!("{}/api/login", self.auth_base))
            .header("origin", APP_ORIGIN)
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        let a = Answer::from(res).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        (a.access_token(), a.refresh_cookie().unwrap())
    }

    async fn refresh(&self, cookie: &str) -> (String, String) {
        let res = self
            .http
            .post(format!("{}/api/token", self.auth_base))
            .header("origin", APP_ORIGIN)
            .header("cookie", format!("__Host-sa_refresh={cookie}"))
            .send()
            .await
            .unwrap();
        let a = Answer::from(res).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        (
            a.access_token(),
            a.refresh_cookie().unwrap_or_else(|| cookie.to_string()),
        )
    }

    async fn create(&self, token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/model", self.store_base))
            .bearer_auth(token)
            .json(&json!({"name": "interop"}))
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.store_base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}

async fn error_code(res: reqwest::Response) -> String {
    let v: Value = res.json().await.expect("JSON error body");
    v["error"]["code"].as_str().expect("error.code").to_string()
}

#[tokio::test]
async fn the_store_verifies_auth_tokens_through_the_jwks_url_alone() {
    let w = world().await;
    let (admin, _) = w.login(ADMIN, ADMIN_PASSWORD).await;

    // An admin writes; the store read the roles from the verified token.
    let created = w.create(&admin).await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "{}",
        created.text().await.unwrap()
    );
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        w.get(&format!("/api/model/{id}"), Some(&admin))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        w.get("/api/model", None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A new user is a reader: reads, may not write; an admin's grant shows on the next token.
    let reg = w
        .http
        .post(format!("{}/api/register", w.auth_base))
        .json(&json!({"username": "rita", "password": "reads-a-lot-1"}))
        .send()
        .await
        .unwrap();
    let rita_id = reg.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (rita, rita_cookie) = w.login("rita", "reads-a-lot-1").await;
    assert_eq!(
        w.get(&format!("/api/model/{id}"), Some(&rita))
            .await
            .status(),
        StatusCode::OK
    );
    let denied = w.create(&rita).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(denied).await, "read_only");
    let grant = w
        .http
        .put(format!("{}/api/users/{rita_id}/roles", w.auth_base))
        .bearer_auth(&admin)
        .json(&json!({"roles": ["writer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::OK);
    let (rita_writer, _) = w.refresh(&rita_cookie).await;
    assert_eq!(w.create(&rita_writer).await.status(), StatusCode::CREATED);

    // A share link opens its one model, read-only, in a request with no Authorization header.
    let model_url = format!("{}/api/model/{id}", w.store_base);
    let share = w
        .http
        .post(format!("{}/api/share", w.auth_base))
        .bearer_auth(&admin)
        .json(&json!({"url": model_url}))
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), StatusCode::OK);
    let share: sa_shared::auth::ShareResponse = share.json().await.unwrap();
    let opened = w.http.get(&share.url).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert_eq!(opened.json::<Value>().await.unwrap()["name"], "interop");
    let other = w.create(&admin).await.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let elsewhere = w
        .get(
            &format!("/api/model/{other}?access_token={}", share.access_token),
            None,
        )
        .await;
    assert_eq!(
        elsewhere.status(),
        StatusCode::FORBIDDEN,
        "a share token opens only its model"
    );
    let write = w
        .http
        .delete(&model_url)
        .bearer_auth(&share.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.status(),
        StatusCode::FORBIDDEN,
        "a share token never writes"
    );
}

#[tokio::test]
async fn tampered_and_foreign_signed_tokens_are_refused_by_the_store() {
    let w = world().await;
    let register = w
        .http
        .post(format!("{}/api/register", w.auth_base))
        .json(&json!({"username": "tim", "password": "tampers-tokens-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let (reader, _) = w.login("tim", "tampers-tokens-1").await;
    assert_eq!(w.create(&reader).await.status(), StatusCode::FORBIDDEN);

    // Same header and signature, payload edited to claim admin.
    let parts: Vec<&str> = reader.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["roles"] = json!(["admin"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    let res = w.create(&forged).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "an edited payload must fail the signature check"
    );

    // Signed by another ES256 key that claims the real issuer and the real kid.
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let other_key = p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    let mut header = jsonwebtoken::decode_header(&reader).unwrap();
    header.typ = Some("JWT".into());
    let foreign = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_pem(other_key.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        w.create(&foreign).await.status(),
        StatusCode::UNAUTHORIZED,
        "a token signed by a foreign key must be refused"
    );
    assert_eq!(claims_unverified(&foreign).roles, vec!["admin"]);
}

#[tokio::test]
async fn after_a_key_rotation_the_store_accepts_old_and_new_tokens() {
    let w = world().await;
    let (old, cookie) = w.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        w.create(&old).await.status(),
        StatusCode::CREATED,
        "the store has fetched and cached the first key"
    );

    // The store refetches a JWKS at most every 10 s; a key that activates later than that after
    // it was published is known to the store before its first token arrives.
    let new_kid = sa_server::auth::keys::rotate(w.auth_dir.path(), 11)
        .unwrap()
        .kid;
    let start = Instant::now();
    let mut cookie = cookie;
    let new = loop {
        let (t, next) = w.refresh(&cookie).await;
        cookie = next;
        if jsonwebtoken::decode_header(&t).unwrap().kid.as_deref() == Some(new_kid.as_str()) {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the rotated key never started signing"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let res = w.create(&new).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the first token of the new key is accepted: {}",
        res.text().await.unwrap()
    );
    assert_eq!(
        w.create(&old).await.status(),
        StatusCode::CREATED,
        "tokens of the retired key stay valid until they expire"
    );
}
