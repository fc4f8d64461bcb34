//! Starts the real auth router on a free loopback port and talks to it over HTTP.
use std::time::Duration;

use reqwest::{header, Response, StatusCode};
use sa_server::auth::{passwords::Cost, Config};
use sa_shared::auth::{Role, TokenResponse, REFRESH_COOKIE};
use serde_json::Value;

pub const APP_ORIGIN: &str = "http://client.sa.test:8080";
pub const OTHER_APP_ORIGIN: &str = "http://explorer.sa.test:8080";
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub struct TestAuth {
    pub base: String,
    pub http: reqwest::Client,
    pub config: Config,
    pub dir: tempfile::TempDir,
}

/// A config for tests: cheap argon2, roomy rate limits, a loopback issuer.
pub fn test_config(dir: &std::path::Path, issuer: &str) -> Config {
    let mut c = Config::new(
        dir.to_path_buf(),
        issuer,
        vec![APP_ORIGIN.into(), OTHER_APP_ORIGIN.into()],
    );
    c.argon2 = Cost::fast_for_tests();
    c.limits = sa_server::auth::ratelimit::Limits {
        per_ip_per_minute: 1000,
        per_account_per_minute: 1000,
    };
    c.key_reload_interval = Duration::from_millis(200);
    c
}

/// Starts the service with an `admin` user; `tweak` adjusts the config first.
pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestAuth {
    let dir = tempfile::tempdir().expect("temp dir");
    start_in(dir, tweak).await
}

pub async fn start_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestAuth {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = test_config(dir.path(), &base);
    tweak(&mut config);
    if sa_server::auth::storage::Storage::open(&config.data_dir, config.database_url.as_deref())
        .await
        .unwrap()
        .user_by_name(ADMIN)
        .await
        .unwrap()
        .is_none()
    {
        sa_server::auth::create_user(
            &config.data_dir,
            config.database_url.as_deref(),
            ADMIN,
            ADMIN_PASSWORD,
            vec![Role::Admin],
            config.argon2,
        )
        .await
        .expect("create admin");
    }
    let app = sa_server::auth::router(config.clone())
        .await
        .expect("auth router");
    tokio::spawn(async move {
        let _ = sa_server::serve::serve(listener, app).await;
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    TestAuth {
        base,
        http,
        config,
        dir,
    }
}

/// What a login or refresh answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn from(res: Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The value of the refresh cookie this response sets (`Some("")` when it clears it).
    pub fn refresh_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| cookie::Cookie::parse(v.to_string()).ok())
            .find(|c| c.name() == REFRESH_COOKIE)
            .map(|c| c.value().to_string())
    }

    pub fn set_cookie_raw(&self) -> String {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn access_token(&self) -> String {
        serde_json::from_value::<TokenResponse>(self.body.clone())
            .unwrap_or_else(|e| panic!("not a token response ({e}): {}", self.body))
            .access_token
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }
}

impl TestAuth {
    /// The status of an unauthenticated GET (health and readiness probes).
    pub async fn status_of(&self, path: &str) -> StatusCode {
        self.http.get(self.url(path)).send().await.unwrap().status()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn register(&self, username: &str, password: &str) -> Answer {
        let res = self
            .http
            .post(self.url("/api/register"))
            .header("origin", APP_ORIGIN)
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        Answer::from(res).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.login_from(APP_ORIGIN, username, password).await
    }

    pub async fn login_from(&self, origin: &str, username: &str, password: &str) -> Answer {
        let res = self
            .http
            .post(self.url("/api/login"))
            .header("origin", origin)
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        Answer::from(res).await
    }

    pub async fn refresh(&self, cookie: &str) -> Answer {
        self.refresh_from(APP_ORIGIN, cookie).await
    }

    pub async fn refresh_from(&self, origin: &str, cookie: &str) -> Answer {
        let res = self
            .http
            .post(self.url("/api/token"))
            .header("origin", origin)
            .header("cookie", format!("{REFRESH_COOKIE}={cookie}"))
            .send()
            .await
            .unwrap();
        Answer::from(res).await
    }

    pub async fn logout(&self, cookie: &str) -> Answer {
        let res = self
            .http
            .post(self.url("/api/logout"))
            .header("origin", APP_ORIGIN)
            .header("cookie", format!("{REFRESH_COOKIE}={cookie}"))
            .send()
            .await
            .unwrap();
        Answer::from(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        Answer::from(res).await
    }

    /// Logs in and returns (access token, refresh cookie value).
    pub async fn signed_in(&self, username: &str, password: &str) -> (String, String) {
        let a = self.login(username, password).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "login of {username} failed: {}",
            a.body
        );
        (
            a.access_token(),
            a.refresh_cookie().expect("login sets the refresh cookie"),
        )
    }
}

/// Decodes a token's claims without checking anything (to look at them in assertions).
pub fn claims_unverified(token: &str) -> sa_shared::auth::Claims {
    jsonwebtoken::dangerous::insecure_decode_claims(token).expect("a JWT")
}
