//! Key rotation: `sa-server auth rotate-key` on a running service. Old tokens stay verifiable
//! through the public JWKS until they expire; after that the retired key leaves the JWKS and the
//! old tokens are rejected.
//!
//! The service runs on an adjustable clock: the test moves it past activation, retention and
//! expiry instead of waiting for them.
mod support;
use support::eventually;

use std::time::Duration;

use clap::Parser;
use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use sa_server::clock::Clock;
use sa_shared::auth::{Claims, AUDIENCE};
use support::auth::*;

const TTL: u64 = 600;
const ACTIVATE_IN: u64 = 300;
/// The service looks for a rotated key this often (a poll of the key dir, not a wait on time).
const RELOAD: Duration = Duration::from_millis(20);
/// The service's clock also moves with real time, which may cross a second or two while the test
/// runs; each step stays this far from a boundary it is not meant to cross.
const MARGIN: i64 = 10;

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

/// Verifies like a store would: the key comes from the JWKS, nothing else; no leeway. Time is
/// the service's clock.
fn verify_with(set: &JwkSet, token: &str, issuer: &str, clock: &Clock) -> Result<Claims, String> {
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
    v.validate_exp = false;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())?;
    if claims.exp <= clock.now() {
        return Err("ExpiredSignature".into());
    }
    Ok(claims)
}

#[tokio::test]
async fn rotated_key_keeps_old_tokens_valid_until_they_expire_then_they_are_rejected() {
    let clock = Clock::adjustable();
    let service_clock = clock.clone();
    let auth = start(move |c| {
        c.access_ttl = TTL;
        c.share_ttl = 1;
        c.clock_skew = 0;
        c.key_reload_interval = RELOAD;
        c.clock = service_clock;
    })
    .await;
    let (old_token, cookie) = auth.signed_in(ADMIN, ADMIN_PASSWORD).await;
    let before = jwks(&auth).await;
    let old_kid = kids(&before);
    assert_eq!(old_kid.len(), 1);
    verify_with(&before, &old_token, &auth.base, &clock).expect("valid before rotation");

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

    // First the new key is only published, so verifiers learn it before they meet a token.
    let both = eventually("the service to publish the new key", || async {
        let set = jwks(&auth).await;
        (kids(&set).len() == 2).then_some(set)
    })
    .await;
    let new_kid = kids(&both).into_iter().find(|k| *k != old_kid[0]).unwrap();
    let early = auth.refresh(&cookie).await;
    assert_eq!(early.status, StatusCode::OK);
    let cookie = early.refresh_cookie().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(early.access_token())
            .unwrap()
            .kid
            .as_deref(),
        Some(old_kid[0].as_str()),
        "the new key does not sign before it activates"
    );
    verify_with(&both, &old_token, &auth.base, &clock)
        .expect("an old token stays valid after rotation");
    assert_eq!(auth.get("/api/me", &old_token).await.status, StatusCode::OK);

    // At its activation time the new key signs; the session survives the rotation.
    clock.advance(ACTIVATE_IN as i64 + MARGIN);
    let fresh = auth.refresh(&cookie).await;
    assert_eq!(
        fresh.status,
        StatusCode::OK,
        "the session survives the rotation"
    );
    let new_token = fresh.access_token().to_string();
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .as_deref(),
        Some(new_kid.as_str()),
        "the new key signs once it is active"
    );
    let now_set = jwks(&auth).await;
    verify_with(&now_set, &new_token, &auth.base, &clock).expect("new token verifies");

    // The retired private key is deleted by the service; the new one is owner-only.
    use std::os::unix::fs::PermissionsExt;
    let keys_dir = auth.dir.path().join("keys");
    eventually("the retired private key to be deleted", || async {
        (!keys_dir.join(format!("{}.key.pem", old_kid[0])).exists()).then_some(())
    })
    .await;
    assert_eq!(
        std::fs::metadata(keys_dir.join(format!("{new_kid}.key.pem")))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // The old key is retired now, not gone: a token it signed stays valid until it expires.
    assert!(
        kids(&now_set).contains(&old_kid[0]),
        "the retired key stays published"
    );
    verify_with(&now_set, &old_token, &auth.base, &clock)
        .expect("the old token is still valid: its key is retired, not gone");
    assert_eq!(auth.get("/api/me", &old_token).await.status, StatusCode::OK);

    // The retired key stays for the longest token lifetime after its retirement, then leaves.
    // By then the old token has expired on its own.
    clock.advance(TTL as i64 - 2 * MARGIN);
    let late = jwks(&auth).await;
    assert!(
        kids(&late).contains(&old_kid[0]),
        "{:?} lacks {}",
        kids(&late),
        old_kid[0]
    );
    assert!(
        verify_with(&late, &old_token, &auth.base, &clock)
            .unwrap_err()
            .contains("Expired"),
        "by then the old token has expired anyway"
    );
    clock.advance(2 * MARGIN);
    let after = jwks(&auth).await;
    assert_eq!(
        kids(&after),
        std::slice::from_ref(&new_kid),
        "the retired key left the JWKS"
    );
    let err = verify_with(&after, &old_token, &auth.base, &clock).expect_err("old token rejected");
    assert!(err.contains("not in the JWKS"), "{err}");
    let refused = auth.get("/api/me", &old_token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // Expiry alone is enforced too: a token of the current key is refused once expired.
    let expired = auth.get("/api/me", &new_token).await;
    assert_eq!(
        (expired.status, expired.error_code()),
        (StatusCode::UNAUTHORIZED, "token_expired"),
        "the new token, signed at activation, is TTL old by now"
    );
    assert!(verify_with(&after, &new_token, &auth.base, &clock)
        .unwrap_err()
        .contains("Expired"));
}
