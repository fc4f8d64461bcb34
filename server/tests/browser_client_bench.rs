//! Measures for docs/bench/client.md, in headless Chromium on loopback through `sa-server dev`:
//! navigation → interactive login form, and login → first rendered list of 1,000 models, each
//! beside a static HTML page with the same content as the floor (served from memory by axum in
//! the same process). The figures are printed; the test asserts what they measure happened
//! (the form is there; all 1,000 rows are rendered). Use a release build of the apps
//! (`SA_DIST`) for figures worth writing down.

mod support;
use std::{net::SocketAddr, time::Duration};

use axum::{response::Html, routing::get, Router};
use serde_json::{json, Value};
use support::browser::{Browser, Stack, DESKTOP};

const USER: (&str, &str) = ("bench", "timing-secret-123");
const MODELS: usize = 1000;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The static floor: the same login form and the same 1,000-row list as plain HTML, each with
/// a `performance.mark` after the content, so both sides are timed the same way.
fn floor_pages(rows: &[(String, String)]) -> Router {
    let items: String = rows
        .iter()
        .map(|(id, name)| {
            format!("<li class=\"workspace-row\"><a href=\"/models/file/{id}\">{name}</a></li>")
        })
        .collect();
    let list = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>list</title></head><body>\
         <ul id=\"model-list\">{items}</ul><script>performance.mark('floor:list-rendered')</script></body></html>"
    );
    let login = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>login</title></head><body>\
         <form id=\"login-form\"><label>Username <input id=\"login-username\"></label>\
         <label>Password <input id=\"login-password\" type=\"password\"></label><button>Sign in</button></form>\
         <script>performance.mark('floor:login-form')</script></body></html>"
        .to_string();
    Router::new()
        .route("/list.html", get(move || async move { Html(list) }))
        .route("/login.html", get(move || async move { Html(login) }))
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// The start time (ms since navigation start) of the last mark called `name`.
async fn mark(b: &Browser, name: &str) -> f64 {
    let v = b.wait_js(name, &format!("(() => {{ const m = performance.getEntriesByName('{name}'); return m.length ? m[m.length - 1].startTime : 0; }})()")).await;
    v.as_f64().unwrap_or_else(|| panic!("mark {name}: {v}"))
}

async fn create_models(stack: &Stack, token: &str) -> Vec<(String, String)> {
    let http = stack.http();
    let url = stack.url("store", "/file/api/model");
    let mut rows = Vec::with_capacity(MODELS);
    // Sixteen at a time: quick, and bounded.
    for chunk in (0..MODELS).collect::<Vec<_>>().chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            let req = http
                .post(&url)
                .bearer_auth(token)
                .json(&json!({"name": format!("Model {i:04}"), "elements": [i]}));
            set.spawn(async move {
                let res = req.send().await.expect("POST /file/api/model");
                assert_eq!(res.status(), 201);
                let id = res.json::<Value>().await.expect("body")["id"]
                    .as_str()
                    .expect("id")
                    .to_string();
                (id, format!("Model {i:04}"))
            });
        }
        rows.extend(set.join_all().await);
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_form_and_a_list_of_1000_models_against_static_html() {
    let stack = Stack::start().await;
    stack.add_user(USER.0, USER.1, &["writer"]).await;
    let token = stack.token(USER.0, USER.1).await;
    let rows = tokio::time::timeout(Duration::from_secs(120), create_models(&stack, &token))
        .await
        .expect("create 1,000 models in 2 min");
    let floor = serve(floor_pages(&rows)).await;

    let b = stack.browser(DESKTOP).await;

    // Navigation → interactive login form (signed out). First load in a fresh profile (cold
    // cache), then reloads (warm: the wasm comes from the HTTP cache).
    let login_url = stack.url("client", "/login");
    let mut app_form = Vec::new();
    for _ in 0..=RUNS {
        b.goto(&login_url).await;
        b.find("#login-submit").await;
        app_form.push(mark(&b, "sa:login-form").await);
    }
    let app_form_cold = app_form.remove(0);
    let mut floor_form = Vec::new();
    for _ in 0..RUNS {
        b.goto(&format!("http://{floor}/login.html")).await;
        floor_form.push(mark(&b, "floor:login-form").await);
    }

    // Login → first rendered list of 1,000 models (submit click to the list in the DOM).
    let mut app_list = Vec::new();
    for run in 0..RUNS {
        if run > 0 {
            b.click("#sign-out").await;
        } else {
            b.goto(&login_url).await;
        }
        b.find("#login-form").await;
        b.fill("#login-username", USER.0).await;
        b.fill("#login-password", USER.1).await;
        b.click("#login-submit").await;
        let rendered = mark(&b, "sa:list-rendered").await;
        let submitted = mark(&b, "sa:login-submit").await;
        let count = b
            .eval("return document.querySelectorAll('#model-list li').length")
            .await;
        if count != json!(MODELS) {
            b.fail(&format!("the workspace should list all {MODELS} models when it marks the list rendered; it has {count}")).await;
        }
        app_list.push(rendered - submitted);
    }
    let mut floor_list = Vec::new();
    for _ in 0..RUNS {
        b.goto(&format!("http://{floor}/list.html")).await;
        floor_list.push(mark(&b, "floor:list-rendered").await);
        let count = b
            .eval("return document.querySelectorAll('#model-list li').length")
            .await;
        assert_eq!(count, json!(MODELS));
    }

    let (af, ff, al, fl) = (
        median(app_form.clone()),
        median(floor_form.clone()),
        median(app_list.clone()),
        median(floor_list.clone()),
    );
    println!("\n| measure (median of {RUNS}, ms) | client | static HTML floor | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| navigation → interactive login form (warm cache) | {af:.0} | {ff:.0} | {:.1}× |",
        af / ff
    );
    println!(
        "| navigation → interactive login form (cold, first load) | {app_form_cold:.0} | — | — |"
    );
    println!(
        "| login → first rendered list of {MODELS} models | {al:.0} | {fl:.0} | {:.1}× |",
        al / fl
    );
    println!("raw: form {app_form:?} floor {floor_form:?} list {app_list:?} floor {floor_list:?}");
    b.check_no_console_errors().await;
    b.close().await;
}
