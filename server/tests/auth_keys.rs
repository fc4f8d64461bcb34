//! Key rotation: `sa-server auth rotate-key` on a running service. Old tokens stay verifiable
//! through the public JWKS until they expire; after that the retired key leaves the JWKS and the
//! old tokens are rejected.
mod auth_support;

use std::time::{Duration, Instant};

use auth_support::*;
use clap::Parser;
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use sa_shared::auth::{Claims, AUDIENCE};

const TTL: u64 = 3;
const ACTIVATE_IN: u64 = 2;

async fn jwks(auth: &TestAuth) -> JwkSet {
    let res = auth
        .http
        .get(auth.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("a JWK set")
}

fn kids(set: &JwkSet) -> Vec<String> {
    set.keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect()
}

/// Verifies like a store would: the key comes from the JWKS, nothing else; no leeway.
fn verify_with(set: &JwkSet, token: &str, issuer: &str) -> Result<Claims, String> {
    let kid = jsonwebtoken::decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or("no kid")?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[issuer]);
    v.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

async fn wait_until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn rotated_key_keeps_old_tokens_valid_until_they_expire_then_they_are_rejected() {
    let auth = start(|c| {
        c.access_ttl = TTL;
        c.share_ttl = 1;
        c.clock_skew = 0;
    })
    .await;
    let (old_token, cookie) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let before = jwks(&auth).await;
    let old_kid = kids(&before);
    assert_eq!(old_kid.len(), 1);
    verify_with(&before, &old_token, &auth.base).expect("valid before rotation");

    // The real command line, as an operator runs it next to the service.
    let data_dir = auth.dir.path().to_str().unwrap().to_string();
    let cli = sa_server::cli::Cli::try_parse_from([
        "sa-server",
        "auth",
        "rotate-key",
        "--data-dir",
        &data_dir,
        "--activate-in",
        &ACTIVATE_IN.to_string(),
    ])
    .expect("CLI parses");
    sa_server::cli::run(cli).await.expect("rotate-key");
    let rotated_at = Instant::now();

    // First the new key is only published, so verifiers learn it before they meet a token.
    wait_until(
        "the service to publish the new key",
        Duration::from_secs(5),
        async || kids(&jwks(&auth).await).len() == 2,
    )
    .await;
    let both = jwks(&auth).await;
    let new_kid = kids(&both).into_iter().find(|k| *k != old_kid[0]).unwrap();
    let early = auth.refresh(&cookie).await;
    assert_eq!(early.status, StatusCode::OK);
    let cookie = early.refresh_cookie().unwrap();
    if rotated_at.elapsed() < Duration::from_secs(ACTIVATE_IN - 1) {
        assert_eq!(
            jsonwebtoken::decode_header(early.access_token())
                .unwrap()
                .kid
                .as_deref(),
            Some(old_kid[0].as_str()),
            "the new key does not sign before it activates"
        );
    }
    verify_with(&both, &old_token, &auth.base).expect("an old token stays valid after rotation");
    assert_eq!(auth.get("/api/me", &old_token).await.status, StatusCode::OK);

    // Then it signs; the session survives the rotation.
    let new_token = {
        let mut cookie = cookie;
        let start = Instant::now();
        loop {
            let fresh = auth.refresh(&cookie).await;
            assert_eq!(
                fresh.status,
                StatusCode::OK,
                "the session survives the rotation"
            );
            cookie = fresh.refresh_cookie().unwrap_or(cookie);
            let t = fresh.access_token();
            if jsonwebtoken::decode_header(&t).unwrap().kid.as_deref() == Some(new_kid.as_str()) {
                break t;
            }
            assert!(
                start.elapsed() < Duration::from_secs(ACTIVATE_IN + 3),
                "the new key never started signing"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    assert!(
        rotated_at.elapsed() >= Duration::from_secs(ACTIVATE_IN - 1),
        "activation waited"
    );
    verify_with(&jwks(&auth).await, &new_token, &auth.base).expect("new token verifies");
    verify_with(&jwks(&auth).await, &old_token, &auth.base)
        .expect("the old token is still valid: its key is retired, not gone");

    // The retired private key is deleted by the service; the new one is owner-only.
    use std::os::unix::fs::PermissionsExt;
    let keys_dir = auth.dir.path().join("keys");
    wait_until(
        "the retired private key to be deleted",
        Duration::from_secs(3),
        async || !keys_dir.join(format!("{}.key.pem", old_kid[0])).exists(),
    )
    .await;
    assert_eq!(
        std::fs::metadata(keys_dir.join(format!("{new_kid}.key.pem")))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let retired_at = Instant::now();

    // After the longest token lifetime the old key leaves the JWKS and the old token is refused.
    let old_exp = claims_unverified(&old_token).exp;
    wait_until(
        "the retired key to leave the JWKS",
        Duration::from_secs(TTL + 5),
        async || kids(&jwks(&auth).await) == [new_kid.clone()],
    )
    .await;
    assert!(
        retired_at.elapsed() >= Duration::from_secs(TTL - 2),
        "the retired key stayed for the token lifetime"
    );
    let after = jwks(&auth).await;
    let err = verify_with(&after, &old_token, &auth.base).expect_err("old token rejected");
    assert!(err.contains("not in the JWKS"), "{err}");
    assert!(
        time::OffsetDateTime::now_utc().unix_timestamp() >= old_exp,
        "by then the old token had expired anyway"
    );
    let refused = auth.get("/api/me", &old_token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // Expiry alone is enforced too: a token of the current key is refused once expired.
    wait_until(
        "the new token to expire",
        Duration::from_secs(TTL + 3),
        async || verify_with(&after, &new_token, &auth.base).is_err(),
    )
    .await;
    assert!(verify_with(&after, &new_token, &auth.base)
        .unwrap_err()
        .contains("Expired"));
    let expired = auth.get("/api/me", &new_token).await;
    assert_eq!(
        (expired.status, expired.error_code()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );
}
