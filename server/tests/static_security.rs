//! `sa-server static`: security headers on every response, a CSP that admits exactly the Trunk
//! bootstrap (checked by hash and in real headless Chromium), and access logs.
mod support;

use std::time::Duration;

use base64::Engine;
use http::StatusCode;
use sha2::{Digest, Sha256};
use support::static_files::*;

fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture();
    let app = app(&f);
    let mut seen = Vec::new();
    for (method, path, status) in [
        ("GET", "/", StatusCode::OK),
        ("GET", &format!("/{WASM}") as &str, StatusCode::OK),
        ("GET", "/models/1", StatusCode::OK),
        ("GET", "/nope.js", StatusCode::NOT_FOUND),
        ("GET", "/%2e%2e/x", StatusCode::BAD_REQUEST),
        ("POST", "/", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/config.json", StatusCode::OK),
        ("GET", "/healthz", StatusCode::OK),
        ("GET", "/readyz", StatusCode::OK),
    ] {
        let r = send(&app, method, path, &[]).await;
        assert_eq!(r.status, status, "{method} {path}");
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            r.header("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
        let csp = r.header("content-security-policy").to_owned();
        assert_eq!(
            directive(&csp, "frame-ancestors"),
            "frame-ancestors 'none'",
            "{path}"
        );
        seen.push(csp);
    }
    let cached = send(&app, "GET", "/", &[("if-none-match", "*")]).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert_eq!(cached.header("x-content-type-options"), "nosniff");
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "one policy for the whole app"
    );
}

#[tokio::test]
async fn csp_lists_the_hash_of_each_inline_script_and_nothing_looser() {
    let f = fixture();
    let app = app(&f);
    let csp = get(&app, "/", &[])
        .await
        .header("content-security-policy")
        .to_owned();
    let html = std::fs::read_to_string(f.dist.join("index.html")).unwrap();

    // Hash the fixture's two inline scripts independently of the server's scanner.
    let bodies: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|s| &s[s.find('>').unwrap() + 1..s.find("</script>").unwrap()])
        .collect();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[1].contains("import init, * as bindings"),
        "the Trunk bootstrap: {}",
        bodies[1]
    );
    let script_src = directive(&csp, "script-src");
    for body in bodies {
        let hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
        assert!(
            script_src.contains(&format!("'sha256-{hash}'")),
            "{script_src} lacks {hash}"
        );
    }
    let sources: Vec<&str> = script_src.split_whitespace().skip(1).collect();
    assert!(
        sources.contains(&"'self'") && sources.contains(&"'wasm-unsafe-eval'"),
        "{script_src}"
    );
    assert!(
        sources
            .iter()
            .all(|s| *s == "'self'" || *s == "'wasm-unsafe-eval'" || s.starts_with("'sha256-")),
        "nothing looser: {script_src}"
    );
    assert_eq!(directive(&csp, "object-src"), "object-src 'none'");
    assert_eq!(directive(&csp, "default-src"), "default-src 'self'");
    assert!(
        !csp.contains("'unsafe-eval'")
            && !csp.contains(" *")
            && !directive(&csp, "style-src").contains("unsafe"),
        "{csp}"
    );
}

#[tokio::test]
async fn connect_src_admits_the_configured_auth_and_store_origins() {
    let f = fixture();
    let csp = get(&app(&f), "/", &[])
        .await
        .header("content-security-policy")
        .to_owned();
    assert_eq!(
        directive(&csp, "connect-src"),
        "connect-src 'self' https://auth.sa.example.com https://store.sa.example.com"
    );

    let dev = sa_shared::config::RuntimeConfig::for_domain("http", "sa.localhost", Some(8080));
    let app = sa_server::static_site::router(sa_server::static_site::Site {
        dir: f.dist.clone(),
        config: dev,
    })
    .unwrap();
    let csp = get(&app, "/", &[])
        .await
        .header("content-security-policy")
        .to_owned();
    assert_eq!(
        directive(&csp, "connect-src"),
        "connect-src 'self' http://auth.sa.localhost:8080 http://store.sa.localhost:8080"
    );
}

/// The proof that the hashes are the ones a browser computes: Chromium boots the fixture app
/// (inline module script -> JS loader -> `instantiateStreaming` of the wasm) under the served
/// CSP, and blocks a script the app injects afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_runs_the_bootstrap_and_blocks_injected_scripts() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromium not found: run `cargo xtask test` (it installs it) or `apt-get install -y chromium`");
    let f = fixture();
    let addr = spawn(app(&f)).await;
    let profile = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(format!("http://{addr}/"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finished within 60 s")
    .expect("chromium starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-booted=\"42\"") && dom.contains("booted 42"),
        "the app did not boot under the CSP:\n{dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dom.contains("data-injected"),
        "an injected inline script ran:\n{dom}"
    );
    assert!(
        dom.contains("data-violations=\"script-src"),
        "the injected script was not reported as blocked:\n{dom}"
    );
}
