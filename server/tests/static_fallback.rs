//! `sa-server static`: `index.html` for navigations only; a missing asset is a JSON 404.
mod support;

use http::StatusCode;
use support::static_files::*;

#[tokio::test]
async fn navigations_get_index_html() {
    let f = fixture();
    let app = app(&f);
    let index = std::fs::read(f.dist.join("index.html")).unwrap();
    for (path, accept) in [
        ("/models/42", ""),
        ("/login?return=%2Fmodels", ""),
        ("/a/b/c/", ""),
        (
            "/release-notes.v2",
            "text/html,application/xhtml+xml,*/*;q=0.8",
        ),
    ] {
        let r = get(&app, path, &[("accept", accept)]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(&r.body[..], &index[..], "{path}");
        assert_eq!(
            r.header("content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(r.header("cache-control"), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn missing_assets_are_404_never_html() {
    let f = fixture();
    let app = app(&f);
    for path in [
        "/sa-client-0000000000000000.js",
        "/sa-client-0000000000000000_bg.wasm",
        "/app-0000000000000000.css",
        "/snippets/x/inline0.js",
        "/favicon.ico",
        "/data.json",
        "/release-notes.v2",
    ] {
        // Even a browser that says it wants HTML gets no HTML for a script or a stylesheet.
        let accept = if path.ends_with(".v2") {
            "*/*"
        } else {
            "text/html"
        };
        let r = get(&app, path, &[("accept", accept)]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.header("content-type"), "application/json", "{path}");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test]
async fn existing_files_win_over_the_fallback() {
    let f = fixture();
    let app = app(&f);
    let r = get(&app, "/robots.txt", &[("accept", "text/html")]).await;
    assert_eq!(r.header("content-type"), "text/plain; charset=utf-8");
    // A symlink inside the root is an ordinary file.
    let alias = get(&app, "/data/alias.css", &[]).await;
    assert_eq!(alias.status, StatusCode::OK);
    assert_eq!(
        &alias.body[..],
        &std::fs::read(f.dist.join(CSS)).unwrap()[..]
    );
}
