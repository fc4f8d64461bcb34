//! `sa-server static`: precompressed `.br`/`.gz` siblings chosen by `Accept-Encoding`.
mod support;

use std::io::Read;

use http::StatusCode;
use support::static_files::*;

fn unbrotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(data, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn picks_the_sibling_by_accept_encoding() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{WASM}");
    let original = std::fs::read(f.dist.join(WASM)).unwrap();

    let br = get(
        &app,
        &path,
        &[("accept-encoding", "gzip, deflate, br, zstd")],
    )
    .await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header("content-encoding"), "br");
    assert_eq!(br.header("content-type"), "application/wasm");
    assert_eq!(br.header("vary"), "accept-encoding");
    assert_eq!(br.header("content-length"), br.body.len().to_string());
    assert_eq!(
        &br.body[..],
        &std::fs::read(f.dist.join(format!("{WASM}.br"))).unwrap()[..]
    );
    assert_eq!(unbrotli(&br.body), original);

    let gz = get(&app, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(gunzip(&gz.body), original);

    let by_q = get(&app, &path, &[("accept-encoding", "br;q=0.2, gzip;q=0.9")]).await;
    assert_eq!(by_q.header("content-encoding"), "gzip");

    for accept in ["identity", "br;q=0, gzip;q=0", "deflate", ""] {
        let plain = get(&app, &path, &[("accept-encoding", accept)]).await;
        assert_eq!(plain.header("content-encoding"), "", "{accept:?}");
        assert_eq!(&plain.body[..], &original[..], "{accept:?}");
        assert_eq!(plain.header("vary"), "accept-encoding");
    }
}

#[tokio::test]
async fn falls_back_to_the_siblings_that_exist() {
    let f = fixture();
    let app = app(&f);
    // The CSS has only a .gz sibling.
    let css = get(&app, &format!("/{CSS}"), &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(css.header("content-encoding"), "gzip");
    let css = get(&app, &format!("/{CSS}"), &[("accept-encoding", "br")]).await;
    assert_eq!(css.header("content-encoding"), "");
    // robots.txt has none.
    let txt = get(&app, "/robots.txt", &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(txt.header("content-encoding"), "");
}

#[tokio::test]
async fn each_encoding_has_its_own_etag() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{JS}");
    let br = get(&app, &path, &[("accept-encoding", "br")]).await;
    let gz = get(&app, &path, &[("accept-encoding", "gzip")]).await;
    let id = get(&app, &path, &[]).await;
    let tags = [br.header("etag"), gz.header("etag"), id.header("etag")];
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );

    let cached = get(
        &app,
        &path,
        &[("accept-encoding", "br"), ("if-none-match", tags[0])],
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    // The identity tag doesn't validate the brotli representation.
    let other = get(
        &app,
        &path,
        &[("accept-encoding", "br"), ("if-none-match", tags[2])],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn ranges_apply_to_the_chosen_representation() {
    let f = fixture();
    let app = app(&f);
    let path = format!("/{BLOB}");
    let br_bytes = std::fs::read(f.dist.join(format!("{BLOB}.br"))).unwrap();
    let r = get(
        &app,
        &path,
        &[("accept-encoding", "br"), ("range", "bytes=0-9")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-encoding"), "br");
    assert_eq!(
        r.header("content-range"),
        format!("bytes 0-9/{}", br_bytes.len())
    );
    assert_eq!(&r.body[..], &br_bytes[..10]);
}

#[tokio::test]
async fn siblings_are_not_files_of_their_own() {
    let f = fixture();
    let app = app(&f);
    let r = get(&app, &format!("/{WASM}.br"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), "application/json");
}
