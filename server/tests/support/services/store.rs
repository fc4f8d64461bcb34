//! A store instance running in-process on a free port, trusting a [`TestIssuer`] whose JWKS is
//! fetched from `http://auth.sa.localhost:PORT/.well-known/jwks.json` (so the `*.localhost`
//! resolution is exercised too).
use std::net::SocketAddr;

use sa_server::store::{Args, BackendKind};

use super::{issuer::JwksServer, TestIssuer};

pub struct TestStore {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub issuer: TestIssuer,
    pub jwks: JwksServer,
    pub writer: String,
    pub reader: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl TestStore {
    /// Starts a store with `backend`; `configure` may change any flag before it starts.
    pub async fn start(backend: BackendKind, configure: impl FnOnce(&mut Args)) -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let issuer_key = TestIssuer::new("placeholder", "sa-key-1", 7);
        let jwks = JwksServer::start(vec![(
            "/.well-known/jwks.json",
            TestIssuer::jwks(&[&issuer_key]),
        )])
        .await;
        let iss = format!("http://auth.sa.localhost:{}", jwks.addr.port());
        let issuer = TestIssuer::new(&iss, "sa-key-1", 7);
        let mut args = Args::new(backend, dir.path().join("models"));
        args.issuer = Some(iss.clone());
        args.jwks_url = Some(format!("{iss}/.well-known/jwks.json"));
        args.audience = Some("sa".into());
        args.allowed_origins = vec![
            "http://client.sa.localhost:8080".into(),
            "http://explorer.sa.localhost:8080".into(),
        ];
        args.backend_timeout_ms = 1000;
        configure(&mut args);
        let router = sa_server::store::router(&args).await.expect("store starts");
        let addr = super::serve(router).await;
        let writer = issuer.token(&["writer"]);
        let reader = issuer.token(&["reader"]);
        TestStore {
            addr,
            base: format!("http://127.0.0.1:{}", addr.port()),
            issuer,
            jwks,
            writer,
            reader,
            http: client(),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.writer)
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.writer)
            .json(body)
    }

    pub fn put_json(&self, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http
            .put(self.url(path))
            .bearer_auth(&self.writer)
            .json(body)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.delete(self.url(path)).bearer_auth(&self.writer)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

/// Asserts the response has `status` and a JSON error body; returns its `code`.
pub async fn expect_error(res: reqwest::Response, status: u16) -> String {
    let got = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "expected {status}, got {got}: {text}");
    assert!(
        ct.starts_with("application/json"),
        "error without JSON content type ({ct}): {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
    let code = v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.code in {text}"))
        .to_string();
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "no error.message in {text}"
    );
    code
}
