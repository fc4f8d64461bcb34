//! The auth service with `--database-url`: users and refresh families in a real PostgreSQL that
//! the test starts itself, including a restart of the service and an outage of the database.

mod support;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::auth::*;

#[tokio::test]
async fn postgres_keeps_users_and_sessions_and_an_outage_is_a_503() {
    let mut pg = support::services::Postgres::start();
    let url = pg.create_database("auth");
    let auth = start(|c| {
        c.database_url = Some(url.clone());
        c.reuse_grace = 0;
    })
    .await;

    let reg = auth.register("paula", "postgres-person-1").await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.body);
    let again = auth.register("Paula", "postgres-person-1").await;
    assert_eq!(
        (again.status, again.error_code()),
        (StatusCode::CONFLICT, "username_taken"),
        "the unique index answers too"
    );
    let (token, c1) = auth.signed_in("paula", "postgres-person-1").await;
    assert_eq!(auth.get("/api/me", &token).await.body["username"], "paula");
    assert_eq!(
        auth.login("paula", "wrong-password").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Rotation and reuse detection in the database.
    let r = auth.refresh(&c1).await;
    assert_eq!(r.status, StatusCode::OK);
    let c2 = r.refresh_cookie().unwrap();
    assert_eq!(auth.refresh(&c1).await.error_code(), "refresh_token_reused");
    assert_eq!(
        auth.refresh(&c2).await.status,
        StatusCode::UNAUTHORIZED,
        "the family is revoked"
    );

    // Admin changes reach the next token; deletion ends the sessions.
    let (_, paula_cookie) = auth.signed_in("paula", "postgres-person-1").await;
    let (admin, _) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let users: Vec<sa_shared::auth::UserView> =
        serde_json::from_value(auth.get("/api/users", &admin).await.body).unwrap();
    let paula = users
        .iter()
        .find(|u| u.username == "paula")
        .unwrap()
        .id
        .clone();
    let put = auth
        .http
        .put(auth.url(&format!("/api/users/{paula}/roles")))
        .bearer_auth(&admin)
        .json(&json!({"roles": ["writer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let next = auth.refresh(&paula_cookie).await;
    assert_eq!(
        claims_unverified(&next.access_token()).roles,
        vec!["writer"]
    );
    let paula_cookie = next.refresh_cookie().unwrap();
    assert!(
        !auth.dir.path().join("users.json").exists(),
        "with a database URL nothing is kept in users.json"
    );

    // A second instance (a restart, or another replica) shares users and sessions.
    let TestAuth { dir, .. } = auth;
    let auth = start_in(dir, |c| {
        c.database_url = Some(url.clone());
        c.reuse_grace = 0;
    })
    .await;
    let r = auth.refresh(&paula_cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let paula_cookie = r.refresh_cookie().unwrap();

    // Outage: a clear 503 in the error contract, not a 500 and not a hang. The test cluster runs
    // with synchronous_commit=off and stops like a crash, so flush first: what is tested here is
    // auth's behaviour, not PostgreSQL's durability settings.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    pool.close().await;
    pg.stop();
    let t = Instant::now();
    let down = auth.login("paula", "postgres-person-1").await;
    assert_eq!(
        (down.status, down.error_code()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        "{}",
        down.body
    );
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "answered in {:?}",
        t.elapsed()
    );
    assert_eq!(
        auth.status_of("/readyz").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        auth.status_of("/healthz").await,
        StatusCode::OK,
        "the process itself is fine"
    );
    let refresh_down = auth.refresh(&paula_cookie).await;
    assert_eq!(refresh_down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        refresh_down.refresh_cookie().is_none(),
        "an outage must not sign anyone out"
    );

    pg.resume();
    let t = Instant::now();
    loop {
        let a = auth.refresh(&paula_cookie).await;
        if a.status == StatusCode::OK {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "auth did not recover after PostgreSQL came back: {}",
            a.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(auth.status_of("/readyz").await, StatusCode::OK);
}
