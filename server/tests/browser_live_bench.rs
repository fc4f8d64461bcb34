//! Figures for BENCHMARKS.md (`bench/live_notice.sh` prints them): B's save → A's page showing
//! it, over 50 saves, in headless Chromium through `sa-server dev`. It runs in the suite too:
//! what it checks is that every one of the 50 saves reached A's page and the feed; the times
//! are printed, never asserted.
//!
//! A has the model open in the client with no edits, so each of B's saves updates A's page in
//! place ("updated by bob just now"). The save is sent from A's page itself with B's token, so
//! both ends are read off the same clock (`performance.now()`), and the page checks for the
//! new version on every turn of its event loop. The peer, in the same page and run: a bare
//! `EventSource` on the store's change feed, i.e. how long the feed itself takes to bring the
//! change, without the app's fetch of the new version and its render.

mod support;
use serde_json::json;
use support::browser::{Stack, DESKTOP};

const ANN: (&str, &str) = ("ann", "correct horse battery");
const BOB: (&str, &str) = ("bob", "staple grape lantern");
const SAVES: usize = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_to_notice() {
    let stack = Stack::start().await;
    stack.add_user(ANN.0, ANN.1, &["writer"]).await;
    stack.add_user(BOB.0, BOB.1, &["writer"]).await;
    let id = stack
        .create_model("file", ANN, r#"{"name": "Pump", "v": 0}"#)
        .await;
    let a = stack.browser(DESKTOP).await;
    a.sign_in(&stack, ANN).await;
    a.goto(&stack.url("client", &format!("/models/file/{id}")))
        .await;
    a.check_text("#model-title", "Pump").await;
    let bob = stack.token(BOB.0, BOB.1).await;
    let model = stack.url("store", &format!("/file/api/model/{id}"));
    let feed = format!(
        "{}?access_token={}",
        stack.url("store", "/file/api/changes"),
        stack.token(ANN.0, ANN.1).await
    );

    let mut app = Vec::new();
    let mut raw = Vec::new();
    for v in 1..=SAVES {
        let r = a
            .client
            .execute_async(
                r#"
                const [model, feed, token, v, done] = arguments;
                const area = () => document.getElementById('model-json');
                const es = new EventSource(feed);
                es.onopen = async () => {
                  const got = await fetch(model, {headers: {authorization: `Bearer ${token}`}});
                  const etag = got.headers.get('etag');
                  let raw = null;
                  const t0 = performance.now();
                  es.addEventListener('change', () => { if (raw === null) raw = performance.now() - t0; });
                  fetch(model, {method: 'PUT', body: JSON.stringify({name: 'Pump', v}),
                    headers: {authorization: `Bearer ${token}`, 'if-match': etag, 'content-type': 'application/json'}});
                  const check = () => {
                    if (area() && area().value.includes(`"v": ${v}`) && raw !== null) {
                      es.close();
                      done([performance.now() - t0, raw]);
                    } else setTimeout(check, 0);
                  };
                  check();
                };
                "#,
                vec![json!(model), json!(feed), json!(bob), json!(v)],
            )
            .await
            .expect("one save, seen");
        app.push(r[0].as_f64().unwrap());
        raw.push(r[1].as_f64().unwrap());
    }
    a.check_text("#live-updated", "updated by bob just now")
        .await;
    let sort = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let (app, raw) = (sort(app), sort(raw));
    let (p50, p99) = (percentile(&app, 0.5), percentile(&app, 0.99));
    let (r50, r99) = (percentile(&raw, 0.5), percentile(&raw, 0.99));
    println!(
        "BENCH save→page over {SAVES} saves: p50 {p50:.1} ms, p99 {p99:.1} ms; bare EventSource p50 {r50:.1} ms, p99 {r99:.1} ms; ratio p50 {:.2}×",
        p50 / r50
    );
    a.close().await;
}
