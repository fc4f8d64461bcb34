//! Issue 5: errors that say what happened and what to do, in headless Chromium through
//! `sa-server dev`: a store that goes down (a real Redis killed and restarted), and a browser
//! that loses its network while editing. Also the dark colour scheme.

mod support;
use support::browser::{Options, Stack, DESKTOP};

const ROOT: (&str, &str) = ("root", "s3cret-admin-pass");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_and_a_lost_network_say_what_to_do() {
    let mut redis = support::services::Redis::start();
    let stack = Stack::start_with(Options {
        redis_url: Some(redis.url()),
        ..Default::default()
    })
    .await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let token = stack.token(ROOT.0, ROOT.1).await;
    let file_id = stack
        .create_model("file", ROOT, r#"{"name": "Boiler"}"#)
        .await;
    let redis_id = stack
        .create_model("redis", ROOT, r#"{"name": "Cache plan"}"#)
        .await;

    let b = stack.browser(DESKTOP).await;
    b.sign_in(&stack, ROOT).await;
    b.check_text("#model-list", "Boiler").await;
    b.check_text("#model-list", "Cache plan").await;

    // Redis dies: its models go, with a message; the file store's stay.
    redis.stop();
    b.expect_network_error("status of 503");
    b.click_text(".section-head button", "Refresh").await;
    b.check_text(".notice.error", "The Redis store is unavailable right now")
        .await;
    b.check_text(".notice.error", "Try again in a minute").await;
    b.check_text("#model-list", "Boiler").await;
    b.screenshots("workspace-store-down", DESKTOP).await;
    b.goto(&stack.url("client", &format!("/models/redis/{redis_id}")))
        .await;
    b.check_text(".notice.error", "The Redis store is unavailable right now")
        .await;
    b.screenshots("model-store-down", DESKTOP).await;

    // Redis is back (empty: it kept nothing); the notice goes once the page asks again.
    redis.resume();
    // The store reconnects on the next request that needs Redis; wait until it has, so the one
    // "Try again" below meets a store that is back, not one still reconnecting.
    let (http, model_url) = (
        stack.http(),
        stack.url("store", &format!("/redis/api/model/{redis_id}")),
    );
    support::services::eventually("the Redis store answers again", || async {
        let res = http.get(&model_url).bearer_auth(&token).send().await.ok()?;
        (res.status() == 404).then_some(())
    })
    .await;
    b.expect_network_error(&format!("/redis/api/model/{redis_id} - Failed to load resource: the server responded with a status of 404"));
    // The store may take a moment to reconnect: the user tries again until it answers.
    b.wait_js(
        "Try again reaches Redis once it is back",
        "(() => { if (document.body.innerText.includes('does not exist')) return true; \
         const retry = [...document.querySelectorAll('button')].find(b => b.textContent.includes('Try again')); \
         if (retry) retry.click(); return false; })()",
    )
    .await;
    b.check_text(".notice.error", "does not exist").await;
    b.goto(&stack.url("client", "/")).await;
    b.check_text("#model-list", "Boiler").await;
    b.find_none(".notice.error").await;

    // The network goes while editing: the save says so, and works once it is back.
    b.goto(&stack.url("client", &format!("/models/file/{file_id}")))
        .await;
    b.check_text("#model-title", "Boiler").await;
    b.offline(true).await;
    b.expect_network_error("ERR_INTERNET_DISCONNECTED");
    b.set_value("#model-json", r#"{"name": "Boiler 2"}"#).await;
    b.click("#save-model").await;
    b.check_text(".notice.error", "Check your network connection")
        .await;
    b.screenshots("model-offline", DESKTOP).await;
    b.offline(false).await;
    b.click("#save-model").await;
    b.check_text("#save-status", "Saved").await;

    // Dark mode follows the system setting.
    b.color_scheme("dark").await;
    let bg = b
        .eval("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(
        bg,
        serde_json::json!("rgb(18, 19, 23)"),
        "dark background under prefers-color-scheme: dark"
    );
    b.screenshots("model-dark", DESKTOP).await;
    b.goto(&stack.url("client", "/")).await;
    b.check_text("#model-list", "Boiler 2").await;
    b.screenshots("workspace-dark", DESKTOP).await;

    b.check_no_console_errors().await;
    b.close().await;
}
