//! A token issuer for tests: a real ES256 key pair, tokens really signed, and its JWKS served
//! over HTTP like the auth service's `/.well-known/jwks.json`.
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub struct TestIssuer {
    pub iss: String,
    pub kid: String,
    secret: p256::SecretKey,
}

impl TestIssuer {
    /// A deterministic key from `seed` (1..=200), so runs are reproducible.
    pub fn new(iss: &str, kid: &str, seed: u8) -> TestIssuer {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).expect("valid P-256 scalar");
        TestIssuer {
            iss: iss.to_string(),
            kid: kid.to_string(),
            secret,
        }
    }

    fn point(&self) -> (Vec<u8>, Vec<u8>) {
        let p = self.secret.public_key().to_encoded_point(false);
        (p.x().unwrap().to_vec(), p.y().unwrap().to_vec())
    }

    pub fn jwk(&self) -> Value {
        let (x, y) = self.point();
        json!({"kty":"EC","crv":"P-256","x":b64(&x),"y":b64(&y),"kid":self.kid,"alg":"ES256","use":"sig"})
    }

    /// The uncompressed public point: what an attacker could use as an HMAC secret.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    pub fn jwks(issuers: &[&TestIssuer]) -> Value {
        json!({"keys": issuers.iter().map(|i| i.jwk()).collect::<Vec<_>>()})
    }

    /// The claims sa's auth service puts in an access token, valid for 10 minutes.
    pub fn claims(&self, roles: &[&str]) -> Value {
        let now = now();
        json!({"iss":self.iss,"aud":"sa","sub":"u-1","name":"Test User","roles":roles,"iat":now,"nbf":now,"exp":now+600,"jti":uuid::Uuid::new_v4().to_string()})
    }

    pub fn token(&self, roles: &[&str]) -> String {
        self.sign(&self.claims(roles))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_kid(claims, &self.kid)
    }

    pub fn sign_with_kid(&self, claims: &Value, kid: &str) -> String {
        let der = self.secret.to_pkcs8_der().expect("pkcs8");
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(der.as_bytes()))
            .expect("sign")
    }
}

/// An HTTP server answering `GET {path}` with a JWKS, counting the fetches.
pub struct JwksServer {
    pub addr: SocketAddr,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(sets: Vec<(&str, Value)>) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        Self::start_on(listener, sets).await
    }

    /// Serves on a listener the caller bound (e.g. a port a store already points at).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        sets: Vec<(&str, Value)>,
    ) -> JwksServer {
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut router = axum::Router::new();
        for (path, jwks) in sets {
            let counter = fetches.clone();
            router = router.route(
                path,
                axum::routing::get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let body = jwks.clone();
                    async move { axum::Json(body) }
                }),
            );
        }
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        JwksServer { addr, fetches }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
