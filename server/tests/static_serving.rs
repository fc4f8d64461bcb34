//! `sa-server static`: MIME types, cache policy, ETag and 304, ranges, HEAD, methods, config.
mod support;

use http::StatusCode;
use support::static_files::*;

#[tokio::test]
async fn mime_types_and_cache_policy() {
    let f = fixture();
    let app = app(&f);
    let cases = [
        ("/", "text/html; charset=utf-8", "no-cache"),
        ("/index.html", "text/html; charset=utf-8", "no-cache"),
        (
            &format!("/{WASM}") as &str,
            "application/wasm",
            "public, max-age=31536000, immutable",
        ),
        (
            &format!("/{JS}"),
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            &format!("/{CSS}"),
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("/robots.txt", "text/plain; charset=utf-8", "no-cache"),
        ("/config.json", "application/json", "no-cache"),
    ];
    for (path, mime, cache) in cases {
        let r = get(&app, path, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("content-type"), mime, "{path}");
        assert_eq!(r.header("cache-control"), cache, "{path}");
    }
}

#[tokio::test]
async fn serves_the_exact_bytes_with_length() {
    let f = fixture();
    let app = app(&f);
    let r = get(&app, &format!("/{WASM}"), &[]).await;
    let on_disk = std::fs::read(f.dist.join(WASM)).unwrap();
    assert_eq!(&r.body[..], &on_disk[..]);
    assert_eq!(r.header("content-length"), on_disk.len().to_string());
    assert_eq!(r.header("accept-ranges"), "bytes");
    assert_eq!(r.header("content-encoding"), "");
}

#[tokio::test]
async fn strong_content_etag_and_304() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{JS}");
    let first = get(&app, &path, &[]).await;
    let etag = first.header("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "strong etag: {etag}"
    );

    // A second router over the same bytes gives the same tag: it comes from the content.
    let again = get(&support::static_files::app(&f), &path, &[]).await;
    assert_eq!(again.header("etag"), etag);

    let not_modified = get(&app, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), etag);
    assert_eq!(
        not_modified.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(not_modified.header("vary"), "accept-encoding");

    // Weak comparison for If-None-Match, lists and `*`.
    for inm in [
        format!("W/{etag}"),
        format!("\"nope\", {etag}"),
        "*".to_owned(),
    ] {
        assert_eq!(
            get(&app, &path, &[("if-none-match", &inm)]).await.status,
            StatusCode::NOT_MODIFIED,
            "{inm}"
        );
    }
    let changed = get(&app, &path, &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(!changed.body.is_empty());

    // The index (and the fallback that serves it) revalidates too.
    let index = get(&app, "/", &[]).await;
    let nav = get(
        &app,
        "/models/42",
        &[("if-none-match", index.header("etag"))],
    )
    .await;
    assert_eq!(nav.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn if_match_is_checked_strongly() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{JS}");
    let etag = get(&app, &path, &[]).await.header("etag").to_owned();
    assert_eq!(
        get(&app, &path, &[("if-match", &etag)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, &path, &[("if-match", "\"other\"")]).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        get(&app, &path, &[("if-match", &format!("W/{etag}"))])
            .await
            .status,
        StatusCode::PRECONDITION_FAILED
    );
}

#[tokio::test]
async fn single_ranges_get_206() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{BLOB}");
    let blob = blob();
    let len = blob.len();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, len - 1),
        ("bytes=-500", len - 500, len - 1),
        ("bytes=65000-999999", 65000, len - 1),
    ] {
        let r = get(&app, &path, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.header("content-range"),
            format!("bytes {start}-{end}/{len}"),
            "{range}"
        );
        assert_eq!(
            r.header("content-length"),
            (end - start + 1).to_string(),
            "{range}"
        );
        assert_eq!(&r.body[..], &blob[start..=end], "{range}");
        assert_eq!(
            r.header("content-encoding"),
            "",
            "no Accept-Encoding: identity bytes"
        );
    }
}

#[tokio::test]
async fn unsatisfiable_malformed_and_conditional_ranges() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{BLOB}");
    let len = blob().len();

    let r = get(&app, &path, &[("range", "bytes=70000-80000")]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range"), format!("bytes */{len}"));
    assert!(r.body.is_empty());

    // Malformed or multiple ranges: the whole file (RFC 9110 lets a server ignore them).
    for range in ["bytes=abc", "items=0-1", "bytes=0-1,5-9"] {
        let r = get(&app, &path, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::OK, "{range}");
        assert_eq!(r.body.len(), len, "{range}");
    }

    let etag = get(&app, &path, &[]).await.header("etag").to_owned();
    let fresh = get(&app, &path, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(fresh.status, StatusCode::PARTIAL_CONTENT);
    let stale = get(
        &app,
        &path,
        &[("range", "bytes=0-9"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body.len(), len);
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let f = fixture();
    let app = app(&f);
    let get_r = get(&app, &format!("/{WASM}"), &[("accept-encoding", "br")]).await;
    let head = send(
        &app,
        "HEAD",
        &format!("/{WASM}"),
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for h in [
        "content-type",
        "content-length",
        "content-encoding",
        "etag",
        "cache-control",
        "vary",
    ] {
        assert_eq!(head.header(h), get_r.header(h), "{h}");
    }
    assert_eq!(
        send(&app, "HEAD", "/models/1", &[])
            .await
            .header("content-type"),
        "text/html; charset=utf-8"
    );
}

#[tokio::test]
async fn other_methods_get_405() {
    let f = fixture();
    let app = app(&f);
    for (method, path) in [
        ("POST", "/index.html"),
        ("PUT", "/models/1"),
        ("DELETE", "/index.html"),
        ("PATCH", "/x.js"),
        ("POST", "/config.json"),
        ("DELETE", "/healthz"),
    ] {
        let r = send(&app, method, path, &[]).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.header("allow"), "GET, HEAD");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
}

#[tokio::test]
async fn config_json_health_and_readiness() {
    let f = fixture();
    let app = app(&f);
    let r = get(&app, "/config.json", &[]).await;
    let got: sa_shared::config::RuntimeConfig = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(got, config());
    assert_eq!(get(&app, "/healthz", &[]).await.status, StatusCode::OK);
    assert_eq!(get(&app, "/readyz", &[]).await.status, StatusCode::OK);
}

#[test]
fn config_json_comes_from_flags_and_env() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: sa_server::static_site::ConfigArgs,
    }
    let c = Cli::parse_from([
        "x",
        "--domain",
        "sa.example.org",
        "--public-scheme",
        "https",
        "--public-port",
        "443",
        "--layout",
        "compact",
        "--stores",
        "file,sql",
    ])
    .config
    .runtime_config()
    .unwrap();
    assert_eq!(c.auth_url, "https://auth.sa.example.org");
    assert_eq!(c.layout, sa_shared::config::Layout::Compact);
    assert_eq!(
        c.stores.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["file", "sql"]
    );

    let c = Cli::parse_from(["x", "--public-port", "8080"])
        .config
        .runtime_config()
        .unwrap();
    assert_eq!(c.client_url, "http://client.sa.localhost:8080");

    // The layout is a value enum: clap refuses an unknown one while parsing, naming the flag.
    let err = Cli::try_parse_from(["x", "--layout", "tiny"])
        .err()
        .expect("an unknown layout is refused")
        .to_string();
    assert!(
        err.contains("--layout") && err.contains("standard, compact"),
        "{err}"
    );

    for bad in [
        &["x", "--stores", "file,mongo"][..],
        &["x", "--public-scheme", "ftp"],
    ] {
        let err = Cli::parse_from(bad)
            .config
            .runtime_config()
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--"), "names the flag: {err}");
    }
}

#[test]
fn a_dir_without_index_html_is_refused_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let err = sa_server::static_site::router(sa_server::static_site::Site {
        dir: tmp.path().to_owned(),
        config: config(),
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no index.html") && err.contains("cargo xtask"),
        "{err}"
    );
}
