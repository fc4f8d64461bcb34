//! Every role bounds the request header section at 16 KiB in all: a 64 KB header gets `431`
//! with the JSON error contract from store, auth, static and the dev gateway, and a header
//! section just under the limit is served as before.
mod support;

use sa_server::{
    header_limit::MAX_HEADER_BYTES,
    store::{Args, AuthMode, BackendKind},
};
use serde_json::Value;

/// A GET of `url` with one `x-pad` header of `pad` bytes (and `Host: host` when given).
async fn get_with_pad(url: &str, host: Option<&str>, pad: usize) -> (u16, String, Value) {
    let mut req = reqwest::Client::new()
        .get(url)
        .header("x-pad", "a".repeat(pad));
    if let Some(h) = host {
        req = req.header("host", h);
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// 431 in the JSON error contract for a 64 KB header; a header section under the limit passes.
async fn assert_bounded(role: &str, url: &str, host: Option<&str>) {
    let (status, content_type, body) = get_with_pad(url, host, 64 * 1024).await;
    assert_eq!(
        status, 431,
        "{role}: a 64 KB header must get 431, got {body}"
    );
    assert!(
        content_type.starts_with("application/json"),
        "{role}: {content_type}"
    );
    assert_eq!(body["error"]["code"], "headers_too_large", "{role}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("16384")),
        "{role}: the message names the limit: {body}"
    );
    let (status, _, body) = get_with_pad(url, host, MAX_HEADER_BYTES - 1024).await;
    assert_ne!(
        status, 431,
        "{role}: a header section under the limit is served: {body}"
    );
}

/// Serves a role's router the way `sa-server ROLE` does (`serve::serve`, which mounts the
/// limits every role shares); returns its address.
async fn serve_role(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sa_server::serve::serve(listener, router));
    addr
}

#[tokio::test]
async fn store_answers_431_over_16_kib_of_headers() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = Args::new(BackendKind::File, dir.path().join("models"));
    args.auth = AuthMode::Off;
    let addr = serve_role(sa_server::store::router(&args).await.unwrap()).await;
    assert_bounded("store", &format!("http://{addr}/api/model"), None).await;
}

#[tokio::test]
async fn auth_answers_431_over_16_kib_of_headers() {
    let dir = tempfile::tempdir().unwrap();
    let config = support::auth::test_config(dir.path(), "http://auth.sa.test");
    let addr = serve_role(sa_server::auth::router(config).await.unwrap()).await;
    assert_bounded(
        "auth",
        &format!("http://{addr}/.well-known/jwks.json"),
        None,
    )
    .await;
}

#[tokio::test]
async fn static_answers_431_over_16_kib_of_headers() {
    let fixture = support::static_files::fixture();
    let addr = serve_role(support::static_files::app(&fixture)).await;
    assert_bounded("static", &format!("http://{addr}/index.html"), None).await;
}

#[tokio::test]
async fn dev_gateway_answers_431_over_16_kib_of_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    for app in ["client", "explorer"] {
        std::fs::create_dir_all(dist.join(app)).unwrap();
        std::fs::write(dist.join(app).join("index.html"), "<!doctype html><p>app").unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let args = sa_server::dev::Args {
        listen: addr,
        domain: "sa.localhost".into(),
        dist,
        data: tmp.path().join("data"),
        redis_url: None,
        database_url: None,
        public_port: None,
        layout: sa_shared::config::Layout::Standard,
        canary_weight: 0,
    };
    sa_server::dev::start(args, listener)
        .await
        .expect("dev gateway starts");
    let url = format!("http://{addr}/");
    // The gateway's own answers (the index page) and a role behind it are both bounded.
    assert_bounded("dev (index)", &url, None).await;
    let host = format!("client.sa.localhost:{}", addr.port());
    assert_bounded("dev (client.)", &url, Some(&host)).await;
}
