//! The explorer tests' world: `sa-server dev` with all three stores (Redis and PostgreSQL
//! started privately by `services`) and a writer who can sign in.
use serde_json::{json, Value};

use super::{
    browser::{Options, Stack, WAIT},
    services::{Postgres, Redis},
};

pub const USER: &str = "mapmaker";
pub const PASSWORD: &str = "correct horse battery staple 42";

/// `sa-server dev` with all three stores (and its chromedriver), and a writer who can sign in.
pub struct World {
    pub stack: Stack,
    pub redis: Redis,
    _postgres: Postgres,
}

impl World {
    pub async fn start() -> World {
        let redis = Redis::start();
        let postgres = Postgres::start();
        let database_url = postgres.create_database("explorer");
        let stack = Stack::start_with(Options {
            redis_url: Some(redis.url()),
            database_url: Some(database_url),
        })
        .await;
        stack.add_user(USER, PASSWORD, &["writer"]).await;
        World {
            stack,
            redis,
            _postgres: postgres,
        }
    }

    pub fn url(&self, sub: &str, path: &str) -> String {
        self.stack.url(sub, path)
    }

    /// An access token for the writer, from auth's login over HTTP.
    pub async fn token(&self) -> String {
        let login = self
            .http()
            .post(self.url("auth", "/api/login"))
            .header("Origin", self.stack.ctx.url("client"))
            .json(&json!({"username": USER, "password": PASSWORD}))
            .send()
            .await
            .expect("login over HTTP");
        assert!(
            login.status().is_success(),
            "login over HTTP: {}",
            login.status()
        );
        login.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The names of the models a store holds (first 100), asked over HTTP.
    pub async fn names_in(&self, store: &str) -> Vec<String> {
        let page: Value = self
            .http()
            .get(self.url(
                "store",
                &format!("/{store}/api/model?view=summary&limit=100"),
            ))
            .bearer_auth(self.token().await)
            .send()
            .await
            .expect("list over HTTP")
            .json()
            .await
            .expect("a summary page");
        let mut names: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    }

    /// Renames a model over HTTP, as another user would (GET for the ETag, PUT with If-Match).
    pub async fn rename(&self, store: &str, id: &str, name: &str) {
        let http = self.http();
        let token = self.token().await;
        let url = self.url("store", &format!("/{store}/api/model/{id}"));
        let got = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET the model");
        let etag = got
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .expect("an ETag")
            .to_string();
        let put = http
            .put(&url)
            .bearer_auth(&token)
            .header("If-Match", etag)
            .json(&json!({"name": name}))
            .send()
            .await
            .expect("PUT the model");
        assert_eq!(put.status(), 200, "rename over HTTP");
    }

    /// Creates one model over HTTP and returns its id.
    pub async fn create_one(&self, store: &str, doc: &Value) -> String {
        let resp = self
            .http()
            .post(self.url("store", &format!("/{store}/api/model")))
            .bearer_auth(self.token().await)
            .json(doc)
            .send()
            .await
            .expect("POST a model");
        assert_eq!(resp.status(), 201, "create a model in {store}");
        resp.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates `n` small models named `{prefix} {i:05}` in a store, 16 requests at a time.
    pub async fn create_many(&self, store: &str, n: usize, prefix: &str) {
        let http = self.http();
        let token = self.token().await;
        let url = self.url("store", &format!("/{store}/api/model"));
        let mut failed = Vec::new();
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let req = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("{prefix} {i:05}"), "i": i}));
                set.spawn(
                    async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) },
                );
            }
            while let Some(status) = set.join_next().await {
                let status = status.expect("seeding task");
                if status != 201 {
                    failed.push(status);
                }
            }
        }
        assert!(
            failed.is_empty(),
            "seeding {n} models into {store}: {} requests failed, e.g. status {}",
            failed.len(),
            failed[0]
        );
    }

    pub fn http(&self) -> reqwest::Client {
        let mut b = reqwest::Client::builder().timeout(WAIT);
        for sub in ["client", "explorer", "store", "auth"] {
            b = b.resolve(&format!("{sub}.{}", self.stack.ctx.domain), self.stack.addr);
        }
        b.build().expect("reqwest client")
    }
}
