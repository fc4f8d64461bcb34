//! The store instances inside `sa-server dev`: `store.D` routes `/file/`, `/redis/` and `/sql/`
//! with the prefix stripped, and plain `/api/` to the file store.

mod support;
use reqwest::header;
use serde_json::Value;
use support::services::{store::expect_error, Redis};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_gateway_mounts_the_stores() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    for app in ["client", "explorer"] {
        std::fs::create_dir_all(dir.path().join("dist").join(app)).unwrap();
        std::fs::write(
            dir.path().join("dist").join(app).join("index.html"),
            "<!doctype html><title>t</title>",
        )
        .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let args = sa_server::dev::Args {
        listen: listener.local_addr().unwrap(),
        domain: "sa.localhost".into(),
        dist: dir.path().join("dist"),
        data: dir.path().join("data"),
        redis_url: Some(redis.url()),
        database_url: None,
        public_port: None,
        layout: sa_shared::config::Layout::Standard,
        canary_weight: 0,
    };
    sa_server::dev::start(args, listener)
        .await
        .expect("dev gateway starts");
    let http = support::services::store::client();
    let get = |path: &str| {
        http.get(format!("http://127.0.0.1:{port}{path}"))
            .header(header::HOST, format!("store.sa.localhost:{port}"))
            .send()
    };

    let ready: Value = get("/redis/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["backend"], "redis");
    let ready: Value = get("/file/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["backend"], "file");
    for path in ["/file/api/model", "/redis/api/model", "/api/model"] {
        assert_eq!(
            expect_error(get(path).await.unwrap(), 401).await,
            "missing_token",
            "{path}"
        );
    }
    assert_eq!(
        expect_error(get("/sql/api/model").await.unwrap(), 503).await,
        "store_not_configured"
    );
    assert!(
        dir.path().join("data").join("models").is_dir(),
        "the file store keeps its models in DATA/models"
    );
}
