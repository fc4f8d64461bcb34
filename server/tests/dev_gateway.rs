//! `sa-server dev` as the local gateway: routing by Host (port ignored), the index page on the
//! bare host, JSON 404s for unknown hosts, and `--domain`.
use sa_shared::config::Layout;
use std::path::Path;

use sa_server::dev;

/// A dist with two distinguishable apps: this test is about routing, not the apps.
fn fake_dist(dir: &Path) {
    for app in ["client", "explorer"] {
        let d = dir.join(app);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("index.html"),
            format!("<!doctype html><title>{app}</title><p>app:{app}</p>"),
        )
        .unwrap();
    }
}

struct Gateway {
    port: u16,
    http: reqwest::Client,
    _tmp: tempfile::TempDir,
}

impl Gateway {
    async fn start(domain: &str) -> Gateway {
        Self::start_with(domain, Layout::Standard).await
    }

    async fn start_with(domain: &str, layout: Layout) -> Gateway {
        let tmp = tempfile::tempdir().unwrap();
        fake_dist(&tmp.path().join("dist"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let args = dev::Args {
            listen: listener.local_addr().unwrap(),
            domain: domain.into(),
            dist: tmp.path().join("dist"),
            data: tmp.path().join("data"),
            redis_url: None,
            database_url: None,
            public_port: None,
            layout,
            canary_weight: 0,
        };
        dev::start(args, listener)
            .await
            .expect("dev gateway starts");
        Gateway {
            port,
            http: reqwest::Client::new(),
            _tmp: tmp,
        }
    }

    /// GET `path` with `Host: host` (connecting to loopback: getaddrinfo doesn't know *.localhost).
    async fn get(&self, host: &str, path: &str) -> (u16, String, String) {
        let r = self
            .http
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .header("host", host)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }
}

#[tokio::test]
async fn hosts_route_to_their_app_with_or_without_port() {
    let gw = Gateway::start("sa.localhost").await;
    let p = gw.port;
    for (host, app) in [
        (format!("client.sa.localhost:{p}"), "client"),
        ("client.sa.localhost".to_string(), "client"),
        (format!("EXPLORER.sa.localhost:{p}"), "explorer"),
    ] {
        let (status, ct, body) = gw.get(&host, "/").await;
        assert_eq!(status, 200, "{host}");
        assert!(ct.starts_with("text/html"), "{host}: {ct}");
        assert!(body.contains(&format!("app:{app}")), "{host} served {body}");
    }
}

#[tokio::test]
async fn config_json_names_this_gateways_hosts() {
    let gw = Gateway::start("sa.localhost").await;
    let (status, _, body) = gw.get("client.sa.localhost", "/config.json").await;
    assert_eq!(status, 200);
    let c: sa_shared::config::RuntimeConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(c.auth_url, format!("http://auth.sa.localhost:{}", gw.port));
    assert_eq!(
        c.explorer_url,
        format!("http://explorer.sa.localhost:{}", gw.port)
    );
    assert!(c
        .stores
        .iter()
        .any(|s| s.id == "file" && s.url == format!("http://store.sa.localhost:{}/file", gw.port)));
}

#[tokio::test]
async fn bare_host_lists_the_four_hosts() {
    let gw = Gateway::start("sa.localhost").await;
    for host in [
        format!("localhost:{}", gw.port),
        format!("127.0.0.1:{}", gw.port),
        "sa.localhost".to_string(),
    ] {
        let (status, ct, body) = gw.get(&host, "/").await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/html"));
        for sub in ["client", "explorer", "store", "auth"] {
            assert!(
                body.contains(&format!("http://{sub}.sa.localhost:{}", gw.port)),
                "{host}: no link to {sub}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_hosts_get_a_json_404() {
    let gw = Gateway::start("sa.localhost").await;
    for host in [
        "nope.sa.localhost",
        "client.other.localhost",
        "evilclient.sa.localhost",
    ] {
        let (status, ct, body) = gw.get(host, "/").await;
        assert_eq!(status, 404, "{host}");
        assert!(ct.starts_with("application/json"), "{host}: {ct}");
        let e: sa_shared::error::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(e.error.code, "unknown_host");
    }
}

#[tokio::test]
async fn store_host_rejects_paths_outside_the_route_table() {
    let gw = Gateway::start("sa.localhost").await;
    let (status, _, body) = gw.get("store.sa.localhost", "/elsewhere").await;
    assert_eq!(status, 404);
    let e: sa_shared::error::ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(e.error.code, "not_found");
}

#[tokio::test]
async fn domain_flag_moves_every_host() {
    let gw = Gateway::start("models.test").await;
    let (status, _, body) = gw.get("client.models.test", "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("app:client"));
    let (status, _, _) = gw.get("client.sa.localhost", "/").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn layout_flag_reaches_config_json() {
    let gw = Gateway::start_with("sa.localhost", Layout::Compact).await;
    let (_, _, body) = gw.get("client.sa.localhost", "/config.json").await;
    let c: sa_shared::config::RuntimeConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(c.layout, sa_shared::config::Layout::Compact);
    let gw = Gateway::start("sa.localhost").await;
    let (_, _, body) = gw.get("explorer.sa.localhost", "/config.json").await;
    let c: sa_shared::config::RuntimeConfig = serde_json::from_str(&body).unwrap();
    assert_eq!(c.layout, sa_shared::config::Layout::Standard);
}
