//! The auth service through its real router over HTTP: accounts, sessions, admin, abuse defences,
//! share tokens, discovery and the error contract.

mod support;
use base64::Engine;
use reqwest::{header, StatusCode};
use sa_shared::auth::{Role, UserView, AUDIENCE};
use serde_json::{json, Value};
use support::auth::*;

const ALICE_PW: &str = "wonderland-42!";

fn payload_keys(token: &str) -> Vec<String> {
    let part = token.split('.').nth(1).expect("three JWT parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url payload");
    let v: Value = serde_json::from_slice(&bytes).expect("JSON payload");
    let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn register_login_me_refresh_logout() {
    let auth = start(|_| {}).await;

    let weak = auth.register("alice", "short").await;
    assert_eq!(
        (weak.status, weak.error_code()),
        (StatusCode::BAD_REQUEST, "weak_password")
    );
    let bad_name = auth.register("a!", ALICE_PW).await;
    assert_eq!(
        (bad_name.status, bad_name.error_code()),
        (StatusCode::BAD_REQUEST, "invalid_username")
    );

    let reg = auth.register("Alice", ALICE_PW).await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.body);
    let alice: UserView = serde_json::from_value(reg.body.clone()).unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.roles, vec!["reader"], "new users are readers");
    let again = auth.register("alice", ALICE_PW).await;
    assert_eq!(
        (again.status, again.error_code()),
        (StatusCode::CONFLICT, "username_taken")
    );

    let login = auth.login("alice", ALICE_PW).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.body["token_type"], "Bearer");
    assert_eq!(login.body["expires_in"], 900);
    assert_eq!(
        login.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let set_cookie = login.set_cookie_raw();
    for part in [
        "__Host-sa_refresh=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(
            set_cookie.contains(part),
            "Set-Cookie lacks {part}: {set_cookie}"
        );
    }
    assert!(
        !set_cookie.contains("Domain="),
        "a __Host- cookie has no Domain: {set_cookie}"
    );

    let token = login.access_token();
    assert_eq!(
        payload_keys(&token),
        ["aud", "exp", "iat", "iss", "jti", "name", "nbf", "roles", "sub"],
        "exactly the design's claims"
    );
    let claims = claims_unverified(&token);
    assert_eq!(claims.iss, auth.base);
    assert_eq!(claims.aud, AUDIENCE);
    assert_eq!(claims.sub, alice.id);
    assert_eq!(claims.name, "alice");
    assert_eq!(claims.roles, vec!["reader"]);
    assert_eq!(claims.exp - claims.iat, 900);
    assert_eq!(claims.nbf, claims.iat);

    let me = auth.get("/api/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(serde_json::from_value::<UserView>(me.body).unwrap(), alice);
    let anonymous = Answer::from(auth.http.get(auth.url("/api/me")).send().await.unwrap()).await;
    assert_eq!(
        (anonymous.status, anonymous.error_code()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    assert_eq!(
        anonymous.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer"
    );

    // Refresh rotates the cookie each time.
    let c1 = login.refresh_cookie().unwrap();
    let r1 = auth.refresh(&c1).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.body);
    let c2 = r1.refresh_cookie().expect("refresh rotates the cookie");
    assert_ne!(c1, c2);
    assert_ne!(r1.access_token(), token);
    assert_eq!(
        auth.get("/api/me", &r1.access_token()).await.status,
        StatusCode::OK
    );
    let r2 = auth.refresh(&c2).await;
    assert_eq!(r2.status, StatusCode::OK);
    let c3 = r2.refresh_cookie().unwrap();

    let out = auth.logout(&c3).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        out.refresh_cookie().as_deref(),
        Some(""),
        "logout clears the cookie"
    );
    assert!(out.set_cookie_raw().contains("Max-Age=0"));
    let after = auth.refresh(&c3).await;
    assert_eq!(
        (after.status, after.error_code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    let none = Answer::from(
        auth.http
            .post(auth.url("/api/token"))
            .header("origin", APP_ORIGIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (none.status, none.error_code()),
        (StatusCode::UNAUTHORIZED, "not_signed_in")
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_its_family() {
    let auth = start(|c| c.reuse_grace = 0).await;
    assert_eq!(
        auth.register("mallory", ALICE_PW).await.status,
        StatusCode::CREATED
    );
    let (_, stolen) = auth.signed_in("mallory", ALICE_PW).await;
    let (_, other_login) = auth.signed_in("mallory", ALICE_PW).await;

    let r = auth.refresh(&stolen).await;
    assert_eq!(r.status, StatusCode::OK);
    let current = r.refresh_cookie().unwrap();

    let reuse = auth.refresh(&stolen).await;
    assert_eq!(
        (reuse.status, reuse.error_code()),
        (StatusCode::UNAUTHORIZED, "refresh_token_reused")
    );
    assert_eq!(
        reuse.refresh_cookie().as_deref(),
        Some(""),
        "a failed refresh clears the cookie"
    );
    let legit = auth.refresh(&current).await;
    assert_eq!(
        legit.status,
        StatusCode::UNAUTHORIZED,
        "the whole family is revoked, the newest token too"
    );

    let other = auth.refresh(&other_login).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another sign-in of the same user is a different family"
    );
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_are_not_taken_for_a_theft() {
    let auth = start(|c| c.reuse_grace = 10).await;
    let (_, c1) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let (a, b) = tokio::join!(auth.refresh(&c1), auth.refresh(&c1));
    assert_eq!(
        (a.status, b.status),
        (StatusCode::OK, StatusCode::OK),
        "{} / {}",
        a.body,
        b.body
    );
    let rotated: Vec<String> = [a.refresh_cookie(), b.refresh_cookie()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        rotated.len(),
        1,
        "exactly one of the two rotates the cookie"
    );
    assert_eq!(
        auth.refresh(&rotated[0]).await.status,
        StatusCode::OK,
        "the family is intact"
    );
}

#[tokio::test]
async fn admin_role_change_takes_effect_on_the_next_token() {
    let auth = start(|_| {}).await;
    let bob: UserView =
        serde_json::from_value(auth.register("bob", "builder-of-things").await.body).unwrap();
    let (bob_token, bob_cookie) = auth.signed_in("bob", "builder-of-things").await;
    assert_eq!(claims_unverified(&bob_token).roles, vec!["reader"]);

    let denied = auth.get("/api/users", &bob_token).await;
    assert_eq!(
        (denied.status, denied.error_code()),
        (StatusCode::FORBIDDEN, "admin_only")
    );

    let (admin_token, _) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let list = auth.get("/api/users", &admin_token).await;
    assert_eq!(list.status, StatusCode::OK);
    let users: Vec<UserView> = serde_json::from_value(list.body).unwrap();
    assert_eq!(
        users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["admin", "bob"]
    );

    let put = |id: String, body: Value| {
        let req = auth
            .http
            .put(auth.url(&format!("/api/users/{id}/roles")))
            .bearer_auth(&admin_token)
            .json(&body);
        async move { Answer::from(req.send().await.unwrap()).await }
    };
    let changed = put(bob.id.clone(), json!({"roles": ["writer"]})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["roles"], json!(["writer"]));

    let next = auth.refresh(&bob_cookie).await;
    assert_eq!(
        claims_unverified(&next.access_token()).roles,
        vec!["writer"],
        "the next token carries the new role"
    );
    assert_eq!(
        auth.get("/api/me", &next.access_token()).await.body["roles"],
        json!(["writer"])
    );

    let unknown_role = put(bob.id.clone(), json!({"roles": ["owner"]})).await;
    assert_eq!(
        (unknown_role.status, unknown_role.error_code()),
        (StatusCode::BAD_REQUEST, "unknown_role")
    );
    let no_such = put(
        uuid::Uuid::new_v4().to_string(),
        json!({"roles": ["reader"]}),
    )
    .await;
    assert_eq!(no_such.status, StatusCode::NOT_FOUND);
    let not_an_id = put("not-an-id".into(), json!({"roles": ["reader"]})).await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);
    let wrong_shape = put(bob.id.clone(), json!({"role": "reader"})).await;
    assert_eq!(
        (wrong_shape.status, wrong_shape.error_code()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );

    let admin_id = users
        .iter()
        .find(|u| u.username == ADMIN)
        .unwrap()
        .id
        .clone();
    let demote_self = put(admin_id.clone(), json!({"roles": ["reader"]})).await;
    assert_eq!(
        (demote_self.status, demote_self.error_code()),
        (StatusCode::CONFLICT, "last_admin")
    );

    // A demoted admin loses admin rights at once, even with an unexpired admin token.
    let promoted = put(bob.id.clone(), json!({"roles": ["admin"]})).await;
    assert_eq!(promoted.status, StatusCode::OK);
    let bob_admin_token = auth
        .refresh(&next.refresh_cookie().unwrap())
        .await
        .access_token();
    assert_eq!(
        auth.get("/api/users", &bob_admin_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        put(bob.id.clone(), json!({"roles": ["reader"]}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        auth.get("/api/users", &bob_admin_token).await.status,
        StatusCode::FORBIDDEN
    );

    let delete = |id: String| {
        let req = auth
            .http
            .delete(auth.url(&format!("/api/users/{id}")))
            .bearer_auth(&admin_token);
        async move { Answer::from(req.send().await.unwrap()).await }
    };
    assert_eq!(delete(bob.id.clone()).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(bob.id.clone()).await.status, StatusCode::NOT_FOUND);
    let gone = auth.get("/api/me", &bob_admin_token).await;
    assert_eq!(
        (gone.status, gone.error_code()),
        (StatusCode::UNAUTHORIZED, "unknown_user")
    );
    assert_eq!(
        auth.login("bob", "builder-of-things").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        (delete(admin_id).await.error_code()).to_string(),
        "last_admin"
    );
}

#[tokio::test]
async fn login_and_registration_are_rate_limited_per_account_and_per_ip() {
    let auth = start(|c| {
        c.limits = sa_server::auth::ratelimit::Limits {
            per_ip_per_minute: 6,
            per_account_per_minute: 3,
        }
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            auth.login("carol", "not-her-password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = auth.login("carol", "not-her-password").await;
    assert_eq!(
        (limited.status, limited.error_code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry: u64 = limited
        .headers
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // The per-IP budget (6) is shared by all accounts: 4 used above.
    assert_eq!(
        auth.login("dave", "not-his-password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        auth.register("erin", "long-password-e").await.status,
        StatusCode::CREATED
    );
    let ip_limited = auth.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        ip_limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the IP is out of budget even for a right password"
    );
    assert!(ip_limited.headers.get(header::RETRY_AFTER).is_some());
    assert_eq!(
        auth.register("frank", "long-password-f").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    // A cost where argon2 dominates the request, so a skipped hash would show.
    let auth = start(|c| {
        c.argon2 = sa_server::auth::passwords::Cost {
            memory_kib: 2048,
            iterations: 2,
            parallelism: 1,
        }
    })
    .await;
    assert_eq!(
        auth.register("grace", "hopper-compiler-1952").await.status,
        StatusCode::CREATED
    );

    let strip = |a: &Answer| {
        let mut h = a.headers.clone();
        h.remove(header::DATE);
        (a.status, h, a.body.clone())
    };
    let wrong = auth.login("grace", "not-the-password").await;
    let unknown = auth.login("nobody-here", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        strip(&wrong),
        strip(&unknown),
        "status, headers and body must not tell the cases apart"
    );

    // Both cases run one argon2 verification of the same cost: see
    // `auth::passwords::tests::unknown_users_cost_one_full_verification` (counted, not timed).
}

#[tokio::test]
async fn cookie_endpoints_refuse_a_foreign_origin() {
    let auth = start(|c| c.reuse_grace = 0).await;
    let evil = "https://evil.example";
    let login = auth.login_from(evil, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        (login.status, login.error_code()),
        (StatusCode::FORBIDDEN, "forbidden_origin")
    );
    assert!(login.refresh_cookie().is_none());

    let (_, cookie) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let refresh = auth.refresh_from(evil, &cookie).await;
    assert_eq!(
        (refresh.status, refresh.error_code()),
        (StatusCode::FORBIDDEN, "forbidden_origin")
    );
    let logout = Answer::from(
        auth.http
            .post(auth.url("/api/logout"))
            .header("origin", evil)
            .header("cookie", format!("__Host-sa_refresh={cookie}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    let cross_site = Answer::from(
        auth.http
            .post(auth.url("/api/token"))
            .header("sec-fetch-site", "cross-site")
            .header("cookie", format!("__Host-sa_refresh={cookie}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    // None of that touched the session; the other app's origin may use it.
    let ok = auth.refresh_from(OTHER_APP_ORIGIN, &cookie).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // CORS: the app origins with credentials, nobody else.
    let preflight = |origin: &'static str| {
        auth.http
            .request(reqwest::Method::OPTIONS, auth.url("/api/token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let good = preflight(APP_ORIGIN).await.unwrap();
    assert_eq!(
        good.headers().get("access-control-allow-origin").unwrap(),
        APP_ORIGIN
    );
    assert_eq!(
        good.headers()
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
    let actual = auth.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        actual.headers.get("access-control-allow-origin").unwrap(),
        APP_ORIGIN
    );
    assert_eq!(
        actual
            .headers
            .get("access-control-allow-credentials")
            .unwrap(),
        "true"
    );
    assert!(
        actual
            .headers
            .get("access-control-expose-headers")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("retry-after"),
        "apps can read Retry-After"
    );
    let bad = preflight(evil).await.unwrap();
    assert!(
        bad.headers().get("access-control-allow-origin").is_none(),
        "no CORS grant for a foreign origin"
    );
}

#[derive(serde::Deserialize)]
struct OidcDiscovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    response_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
}

#[tokio::test]
async fn discovery_and_jwks_are_standard_and_verify_our_tokens() {
    let auth = start(|_| {}).await;
    let res = auth
        .http
        .get(auth.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let d: OidcDiscovery = res
        .json()
        .await
        .expect("the REQUIRED fields of OpenID Connect Discovery 1.0 §3");
    assert_eq!(d.issuer, auth.base);
    assert_eq!(d.jwks_uri, format!("{}/.well-known/jwks.json", auth.base));
    assert_eq!(d.token_endpoint, format!("{}/api/token", auth.base));
    assert!(d.authorization_endpoint.starts_with("http"));
    assert!(
        !d.response_types_supported.is_empty()
            && d.subject_types_supported.contains(&"public".to_string())
    );
    assert!(d
        .id_token_signing_alg_values_supported
        .contains(&"ES256".to_string()));

    let res = auth.http.get(&d.jwks_uri).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get(header::ETAG).expect("ETag").clone();
    assert!(res
        .headers()
        .get(header::CACHE_CONTROL)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("max-age"));
    let raw: Value = res.json().await.unwrap();
    assert!(
        raw["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none()),
        "no private key material: {raw}"
    );
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(raw.clone()).expect("a standard JWK set");
    assert_eq!(set.keys.len(), 1);
    assert!(set.keys[0].common.key_id.is_some(), "every key has a kid");
    assert_eq!(raw["keys"][0]["kty"], "EC");
    assert_eq!(raw["keys"][0]["crv"], "P-256");
    assert_eq!(raw["keys"][0]["alg"], "ES256");
    assert_eq!(raw["keys"][0]["use"], "sig");

    let not_modified = auth
        .http
        .get(&d.jwks_uri)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

    // A verifier that knows only the JWKS accepts our token, and checks iss and aud.
    let (token, _) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let key = jsonwebtoken::DecodingKey::from_jwk(
        set.find(header.kid.as_deref().expect("kid"))
            .expect("the token's kid is in the JWKS"),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[&d.issuer]);
    let data = jsonwebtoken::decode::<sa_shared::auth::Claims>(&token, &key, &v)
        .expect("verifies with the published key");
    assert_eq!(data.claims.roles, vec![Role::Admin.as_str()]);
    let mut wrong_aud = v.clone();
    wrong_aud.set_audience(&["someone-else"]);
    assert!(jsonwebtoken::decode::<sa_shared::auth::Claims>(&token, &key, &wrong_aud).is_err());

    // Keys on disk: owner only.
    use std::os::unix::fs::PermissionsExt;
    let keys_dir = auth.dir.path().join("keys");
    assert_eq!(
        std::fs::metadata(&keys_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for entry in std::fs::read_dir(&keys_dir).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            p.display()
        );
    }
    assert_eq!(
        std::fs::metadata(auth.dir.path().join("users.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[tokio::test]
async fn share_tokens_open_one_model_read_only_for_at_most_ten_minutes() {
    let auth = start(|_| {}).await;
    let (token, _) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let model = uuid::Uuid::new_v4();
    let url = format!("http://store.sa.test:8080/redis/api/model/{model}");
    let share = |body: Value, bearer: Option<String>| {
        let mut req = auth.http.post(auth.url("/api/share")).json(&body);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        async move { Answer::from(req.send().await.unwrap()).await }
    };
    assert_eq!(
        share(json!({"url": url}), None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let ok = share(json!({"url": url}), Some(token.clone())).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let resp: sa_shared::auth::ShareResponse = serde_json::from_value(ok.body).unwrap();
    assert_eq!(
        resp.url,
        format!("{url}?access_token={}", resp.access_token)
    );
    assert!(resp.expires_in <= 600);
    let claims = claims_unverified(&resp.access_token);
    assert_eq!(claims.model.as_deref(), Some(model.to_string().as_str()));
    assert_eq!(claims.roles, vec!["reader"], "share tokens never write");
    assert!(claims.exp - claims.iat <= 600);
    assert_eq!(
        payload_keys(&resp.access_token),
        ["aud", "exp", "iat", "iss", "jti", "model", "name", "nbf", "roles", "sub"]
    );

    let as_login = auth.get("/api/me", &resp.access_token).await;
    assert_eq!(
        (as_login.status, as_login.error_code()),
        (StatusCode::FORBIDDEN, "share_token")
    );
    let again = share(json!({"url": url}), Some(resp.access_token.clone())).await;
    assert_eq!(
        again.status,
        StatusCode::FORBIDDEN,
        "a share token can't mint more share tokens"
    );

    for bad in [
        "not a url",
        "/api/model/x",
        "http://store.sa.test/api/model/not-a-uuid",
        "ftp://store/api/model/00000000-0000-0000-0000-000000000000",
    ] {
        let a = share(json!({"url": bad}), Some(token.clone())).await;
        assert_eq!(
            (a.status, a.error_code()),
            (StatusCode::BAD_REQUEST, "invalid_model_url"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_never_a_500() {
    let auth = start(|_| {}).await;
    let post = |path: &'static str, ctype: &'static str, body: Vec<u8>| {
        let req = auth
            .http
            .post(auth.url(path))
            .header("content-type", ctype)
            .header("origin", APP_ORIGIN)
            .body(body);
        async move { Answer::from(req.send().await.unwrap()).await }
    };
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        (
            "/api/login",
            "application/json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/login",
            "text/plain",
            br#"{"username":"a","password":"b"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/api/login",
            "application/json",
            br#"{"username":"a"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/login",
            "application/json",
            br#"{"username":"","password":""}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/login",
            "application/json",
            br#"[1,2,3]"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/register",
            "application/json",
            vec![b' '; 64 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/api/register",
            "application/json",
            br#"{"username":"\u0000\u0001","password":"x"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/share",
            "application/json",
            b"{}".to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (path, ctype, body, status) in cases {
        let a = post(path, ctype, body).await;
        assert_eq!(a.status, status, "{path} {ctype}: {}", a.body);
        let code = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Some("unsupported_media_type"),
            StatusCode::PAYLOAD_TOO_LARGE => Some("body_too_large"),
            _ => None,
        };
        if let Some(code) = code {
            assert_eq!(a.error_code(), code, "{path} {ctype}");
        }
        assert!(
            a.body["error"]["code"].is_string() && a.body["error"]["message"].is_string(),
            "{path}: {}",
            a.body
        );
    }
    let long_password = json!({"username": "x", "password": "p".repeat(5000)});
    let a = Answer::from(
        auth.http
            .post(auth.url("/api/login"))
            .json(&long_password)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    for (token, code) in [
        ("garbage", "invalid_token"),
        ("a.b.c", "invalid_token"),
        ("", "invalid_token"),
    ] {
        let a = Answer::from(
            auth.http
                .get(auth.url("/api/me"))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (a.status, a.error_code()),
            (StatusCode::UNAUTHORIZED, code),
            "{token:?}"
        );
    }
    for cookie in [
        "x",
        "..",
        "00000000000000000000000000000000.0.abc",
        "nothex.1.2",
        "%%%",
    ] {
        let a = auth.refresh(cookie).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{cookie:?}: {}", a.body);
    }
    let not_found = Answer::from(auth.http.get(auth.url("/nope")).send().await.unwrap()).await;
    assert_eq!(
        (not_found.status, not_found.error_code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let wrong_method =
        Answer::from(auth.http.get(auth.url("/api/login")).send().await.unwrap()).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");

    assert_eq!(auth.status_of("/healthz").await, StatusCode::OK);
    assert_eq!(auth.status_of("/readyz").await, StatusCode::OK);
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let auth = start(|c| c.registration = false).await;
    let a = auth.register("henry", "secret-password-3").await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::FORBIDDEN, "registration_closed")
    );
    let d: Value = auth
        .http
        .get(auth.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(d.get("registration_endpoint").is_none());
}

#[tokio::test]
async fn users_and_sessions_survive_a_restart_and_cli_added_users_are_seen() {
    let auth = start(|_| {}).await;
    assert_eq!(
        auth.register("ivy", "secret-password-1").await.status,
        StatusCode::CREATED
    );
    let (_, cookie) = auth.signed_in("ivy", "secret-password-1").await;

    // `sa-server users add` writes the same files while the service runs.
    let added = sa_server::auth::create_user(
        auth.dir.path(),
        None,
        "jack",
        "secret-password-2",
        vec![Role::Writer],
        sa_server::auth::passwords::Cost::fast_for_tests(),
    )
    .await
    .unwrap();
    assert_eq!(added.roles, vec!["writer"]);
    let (jack_token, _) = auth.signed_in("jack", "secret-password-2").await;
    assert_eq!(claims_unverified(&jack_token).roles, vec!["writer"]);
    let dup = sa_server::auth::create_user(
        auth.dir.path(),
        None,
        "jack",
        "secret-password-2",
        vec![],
        sa_server::auth::passwords::Cost::fast_for_tests(),
    )
    .await;
    assert!(dup.is_err());

    // A second instance on the same data dir (a restart) knows the users, the session and the key.
    let first_kid = jsonwebtoken::decode_header(&jack_token).unwrap().kid;
    let TestAuth { dir, .. } = auth;
    let restarted = start_in(dir, |_| {}).await;
    let r = restarted.refresh(&cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        jsonwebtoken::decode_header(r.access_token()).unwrap().kid,
        first_kid,
        "the key is kept, not regenerated"
    );
    assert_eq!(
        restarted.login("jack", "secret-password-2").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_first_admin_is_created_once_and_the_auth_api_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        sa_server::auth::Config::new(
            dir.path().join("auth"),
            "http://auth.sa.localhost:18080",
            vec![
                "http://client.sa.localhost:18080".to_string(),
                "http://explorer.sa.localhost:18080".to_string(),
            ],
        )
    };
    let admins = || {
        let users: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("auth/users.json")).unwrap())
                .unwrap();
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (router, password) = sa_server::auth::router_with_first_admin(config())
        .await
        .expect("auth is built");
    assert_eq!(admins(), ["admin"]);
    assert!(
        password.as_deref().is_some_and(|p| p.len() >= 12),
        "the generated password comes back once: {password:?}"
    );
    let (_, again) = sa_server::auth::router_with_first_admin(config())
        .await
        .unwrap();
    assert_eq!(admins(), ["admin"], "a later start creates no second admin");
    assert_eq!(again, None, "and shows no password");

    use tower::ServiceExt;
    let req = |uri: &str| {
        http::Request::builder()
            .uri(uri)
            .header("host", "auth.sa.localhost:18080")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let res = router
        .clone()
        .oneshot(req("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let d: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        d["issuer"], "http://auth.sa.localhost:18080",
        "the issuer is the dev auth URL"
    );
    assert_eq!(
        d["jwks_uri"],
        "http://auth.sa.localhost:18080/.well-known/jwks.json"
    );
    let preflight = http::Request::builder()
        .method("OPTIONS")
        .uri("/api/token")
        .header("origin", "http://explorer.sa.localhost:18080")
        .header("access-control-request-method", "POST")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = router.oneshot(preflight).await.unwrap();
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "http://explorer.sa.localhost:18080"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_keys_on_the_address_the_proxy_appended() {
    let auth = start(|c| {
        c.trust_forwarded_for = true;
        c.limits = sa_server::auth::ratelimit::Limits {
            per_ip_per_minute: 2,
            per_account_per_minute: 1000,
        };
    })
    .await;
    let login_via = |xff: &'static str, user: &'static str| {
        let req = auth
            .http
            .post(auth.url("/api/login"))
            .header("x-forwarded-for", xff)
            .json(&json!({"username": user, "password": "wrong-password"}));
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(
        login_via("203.0.113.7", "u1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_via("203.0.113.7", "u2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_via("203.0.113.7", "u3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_via("198.51.100.1, 203.0.113.7", "u4").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client-written entry in front changes nothing"
    );
    assert_eq!(
        login_via("203.0.113.8", "u5").await,
        StatusCode::UNAUTHORIZED,
        "another client has its own budget"
    );
}
