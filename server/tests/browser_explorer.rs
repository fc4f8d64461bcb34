//! Issue 6: the explorer in headless Chromium through `sa-server dev`, with a private Redis and
//! PostgreSQL started here, so the File, Redis and PostgreSQL tabs are all real.
//!
//! One model is created in the File tab, copied to Redis and moved to PostgreSQL; search finds
//! it; its share link opens in a browser with no session; a reload on a deep link comes back
//! signed in on the same model; stopping Redis marks only the Redis tab unavailable; the
//! client's pop-over hands the picked model to the client.
mod support;
use support::explorer_world as world;

use fantoccini::key::Key;
use serde_json::{json, Value};
use support::browser::{Browser, DESKTOP, PHONE};
use world::{World, PASSWORD, USER};

/// Signs in through the explorer's "Sign in" link and the client's login page, and checks
/// the way back lands on the page the user started from.
async fn sign_in_from(b: &Browser, w: &World, path: &str) {
    let start = w.url("explorer", path);
    b.goto(&start).await;
    let link = b.find(".explorer .signin a").await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    let expected = format!("{}/login?return=", w.stack.ctx.url("client"));
    assert!(
        href.starts_with(&expected),
        "the Sign in link goes to the client's login page with a return URL: {href}"
    );
    assert!(
        href.contains(&urlencoding(&start)),
        "the return URL is the page the user is on: {href}"
    );
    link.click().await.unwrap();
    b.find("#login-username").await;
    b.fill("#login-username", USER).await;
    b.fill("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_url(
        "back on the explorer after signing in",
        w.stack.ctx.url("explorer"),
    )
    .await;
    b.find_text(".app-header .session-state", USER).await;
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => (c as char).to_string(),
            _ => format!("%{c:02X}"),
        })
        .collect()
}

async fn open_tab(b: &Browser, store: &str) {
    b.click(&format!(".explorer [role=tab][data-store={store}]"))
        .await;
    b.wait_js(&format!("{store} tab selected"), &format!("document.querySelector('[role=tab][data-store={store}]').getAttribute('aria-selected') === 'true'")).await;
}

/// The names in the visible list once it has loaded (or its empty state).
async fn listed_names(b: &Browser) -> Vec<String> {
    b.wait_js("the list loaded", "document.querySelector('.list-viewport:not([hidden]) .ex-row') || document.querySelector('.ex-list .empty-state')").await;
    let v = b.eval("return [...document.querySelectorAll('.list-viewport:not([hidden]) .row-name')].map(e => e.textContent)").await;
    let mut names: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// Types one character on whatever has focus, through WebDriver actions (real key events).
async fn press_char(b: &Browser, c: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: c })
        .then(KeyAction::Up { value: c });
    b.client.perform_actions(keys).await.expect("key press");
    b.client.release_actions().await.expect("release keys");
}

async fn choose_target(b: &Browser, store: &str) {
    b.find(".transfer-target").await;
    b.eval_args(
        "const s = document.querySelector('.transfer-target'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(store)],
    )
    .await;
}

/// The model id in the explorer's URL (`/{store}/{id}`).
async fn current_model(b: &Browser, store: &str) -> String {
    b.wait_url("a model is open", &format!("/{store}/")).await;
    let url = b.client.current_url().await.unwrap();
    url.path().rsplit('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_model_travels_file_to_redis_to_postgres() {
    let mut w = World::start().await;
    let stack = &w.stack;
    let b = stack.browser(DESKTOP).await;

    // Signed out: tabs for all three stores, and a way to sign in that comes back here.
    b.goto(&w.url("explorer", "/")).await;
    for store in ["file", "redis", "sql"] {
        b.find(&format!("[role=tab][data-store={store}]")).await;
    }
    b.screenshots("explorer-signed-out", DESKTOP).await;
    sign_in_from(&b, &w, "/").await;

    // WAI-ARIA tabs: one tab in the tab order, arrow keys move and activate.
    let tabindex = b
        .eval("return [...document.querySelectorAll('[role=tab]')].map(t => t.tabIndex)")
        .await;
    assert_eq!(
        tabindex,
        json!([0, -1, -1]),
        "roving tabindex: only the selected tab is focusable"
    );
    b.eval("document.querySelector('[role=tab][data-store=file]').focus()")
        .await;
    b.press(Key::Right).await;
    assert_eq!(b.focused().await, "tab-redis");
    b.wait_js(
        "ArrowRight activates Redis",
        "document.getElementById('tab-redis').getAttribute('aria-selected') === 'true'",
    )
    .await;
    b.press(Key::End).await;
    assert_eq!(b.focused().await, "tab-sql");
    b.press(Key::Home).await;
    assert_eq!(b.focused().await, "tab-file");
    let controls = b.eval("const t = document.getElementById('tab-file'); return [t.getAttribute('aria-controls'), document.querySelector('[role=tabpanel]').id]").await;
    assert_eq!(controls[0], controls[1], "the tab controls the panel");
    for store in ["file", "redis", "sql"] {
        b.wait_js(
            &format!("{store} is available"),
            &format!(
                "document.querySelector('[role=tab][data-store={store}]').dataset.health === 'up'"
            ),
        )
        .await;
    }
    b.wait_js(
        "the backend name shows",
        "document.getElementById('tab-sql').textContent.includes('postgres')",
    )
    .await;

    // Create two models in the File tab.
    open_tab(&b, "file").await;
    for name in ["Bystander plan", "Migrating plant 7"] {
        b.click(".new-model").await;
        b.set_value("#model-json", &json!({"name": name, "parts": (0..30).map(|i| json!({"id": i, "w": i * 2})).collect::<Vec<_>>()}).to_string()).await;
        b.click(".editor .save").await;
        b.find_text(".model-header h2", name).await;
    }
    let file_id = current_model(&b, "file").await;
    assert_eq!(
        listed_names(&b).await,
        ["Bystander plan", "Migrating plant 7"]
    );
    b.screenshots("explorer-model", DESKTOP).await;

    // The JSON tree: collapsed arrays open on demand.
    b.find_text(".jt-toggle[aria-expanded=false]", "parts")
        .await
        .click()
        .await
        .unwrap();
    b.find_text(".json-tree .jt-key", "29").await;

    // Search as you type, on the server: only the match is listed.
    b.eval("document.activeElement.blur()").await;
    press_char(&b, '/').await;
    b.wait_js(
        "/ focuses the search box",
        "document.activeElement && document.activeElement.classList.contains('search')",
    )
    .await;
    b.fill(".explorer .search", "migrating").await;
    b.wait_js(
        "search narrows the list",
        "document.querySelectorAll('.list-viewport .ex-row').length === 1",
    )
    .await;
    assert_eq!(listed_names(&b).await, ["Migrating plant 7"]);
    b.find_text(".list-status", "1 of 1").await;
    // Keyboard: into the list, Enter opens.
    b.press(Key::Down).await;
    b.wait_js(
        "ArrowDown moves into the list",
        "document.activeElement && document.activeElement.getAttribute('role') === 'listbox'",
    )
    .await;
    b.press(Key::Enter).await;
    b.wait_url("Enter opens the model", &format!("/file/{file_id}"))
        .await;

    // Copy to Redis.
    choose_target(&b, "redis").await;
    b.click(".copy-to").await;
    b.find_text(".ex-notice", "Copied to Redis").await;

    // Move to PostgreSQL: the explorer follows the model to its new home.
    choose_target(&b, "sql").await;
    b.click(".move-to").await;
    let sql_id = current_model(&b, "sql").await;
    b.find_text(".model-header h2", "Migrating plant 7").await;
    assert_ne!(sql_id, file_id);

    // Each tab shows what its store holds, and the stores agree.
    open_tab(&b, "file").await;
    assert_eq!(
        listed_names(&b).await,
        ["Bystander plan"],
        "the move removed the model from the File store"
    );
    open_tab(&b, "redis").await;
    assert_eq!(listed_names(&b).await, ["Migrating plant 7"]);
    open_tab(&b, "sql").await;
    assert_eq!(listed_names(&b).await, ["Migrating plant 7"]);
    assert_eq!(w.names_in("file").await, ["Bystander plan"]);
    assert_eq!(w.names_in("redis").await, ["Migrating plant 7"]);
    assert_eq!(w.names_in("sql").await, ["Migrating plant 7"]);

    // A reload on the deep link comes back signed in, on the same model.
    let deep = w.url("explorer", &format!("/sql/{sql_id}"));
    b.goto(&deep).await;
    // Reloaded once the page has its session: a reload while the page's first refresh is in
    // flight loses the rotated cookie (see docs/architecture.md, "Refresh tokens").
    b.find_text(".app-header .session-state", USER).await;
    b.client.refresh().await.unwrap();
    b.find_text(".model-header h2", "Migrating plant 7").await;
    b.wait_js(
        "the PostgreSQL tab is selected",
        "document.getElementById('tab-sql').getAttribute('aria-selected') === 'true'",
    )
    .await;

    // A share link opens in a browser with no session.
    b.click(".ex-actions .share").await;
    let share = b
        .find(".share-url")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        share.contains("access_token="),
        "a share link carries its token: {share}"
    );
    let stranger = stack.browser(DESKTOP).await;
    stranger.goto(&share).await;
    let body = stranger.eval("return document.body.innerText").await;
    let doc: Value = serde_json::from_str(body.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the share link shows the model as JSON ({e}): {body}"));
    assert_eq!(doc["name"], "Migrating plant 7");
    stranger.close().await;

    b.screenshots("explorer-deep-link", DESKTOP).await;
    b.check_no_console_errors().await;

    // Inside the client, the pop-over hands the picked model to the client, which opens it.
    b.goto(&w.url("client", "/")).await;
    b.click("#open-explorer").await;
    b.click("dialog.explorer-dialog[open] [role=tab][data-store=sql]")
        .await;
    b.find_text("dialog.explorer-dialog[open] .ex-row", "Migrating plant 7")
        .await;
    b.screenshots("explorer-popover", DESKTOP).await;
    b.find_text("dialog.explorer-dialog[open] .ex-row", "Migrating plant 7")
        .await
        .click()
        .await
        .unwrap();
    b.wait_url(
        "the client opens the picked model",
        &format!("/models/sql/{sql_id}"),
    )
    .await;
    b.find_none("dialog.explorer-dialog[open]").await;
    b.check_no_console_errors().await;

    // Redis goes down: its tab says so, the others keep working.
    b.goto(&w.url("explorer", "/file")).await;
    b.find_text(".list-status", "1 of 1").await;
    w.redis.stop();
    b.expect_network_error("status of 503");
    open_tab(&b, "redis").await;
    b.wait_js(
        "Redis is marked unavailable",
        "document.getElementById('tab-redis').dataset.health === 'down'",
    )
    .await;
    b.find_text(".list-error", "Redis is unavailable").await;
    b.screenshots("explorer-redis-down", DESKTOP).await;
    open_tab(&b, "file").await;
    assert_eq!(
        listed_names(&b).await,
        ["Bystander plan"],
        "the File tab still works while Redis is down"
    );
    open_tab(&b, "sql").await;
    assert_eq!(
        listed_names(&b).await,
        ["Migrating plant 7"],
        "the PostgreSQL tab still works while Redis is down"
    );
    for store in ["file", "sql"] {
        let h = b
            .eval(&format!(
                "return document.querySelector('[role=tab][data-store={store}]').dataset.health"
            ))
            .await;
        assert_eq!(h, "up", "{store} stays available while Redis is down");
    }
    let h = b
        .eval("return document.getElementById('tab-redis').dataset.health")
        .await;
    assert_eq!(h, "down");

    // Dark mode follows the system setting.
    b.color_scheme("dark").await;
    b.screenshots("explorer-dark", DESKTOP).await;
    b.color_scheme("light").await;

    // Phone layout: the list, then the model in its place.
    b.resize(PHONE).await;
    b.click(".list-viewport .ex-row").await;
    b.find(".model-view .back").await;
    b.screenshot("explorer-model-phone").await;
    b.resize(DESKTOP).await;

    // Edit with If-Match: someone else renames it first, so the explorer's save is refused
    // (412) and becomes a three-way merge; both renamed it, so it asks, and "mine" wins.
    b.click(".ex-actions .edit").await;
    b.find("#model-json").await;
    w.rename("sql", &sql_id, "Renamed elsewhere").await;
    b.set_value("#model-json", &json!({"name": "Renamed here"}).to_string())
        .await;
    b.expect_network_error("status of 412");
    b.click(".editor .save").await;
    b.find_text(".ex-merge fieldset.merge-conflict legend", "/name")
        .await;
    b.click("#merge-0-mine").await;
    b.click(".ex-merge .merge-confirm").await;
    b.find_text(".ex-notice", "Saved with your choices.").await;
    b.find_text(".model-header h2", "Renamed here").await;
    b.find_text(".ex-row .row-name", "Renamed here").await;

    // Delete asks first, then the model is gone from the store and the list.
    b.click(".ex-actions .delete").await;
    b.click(".confirm .confirm-delete").await;
    b.wait_url("back on the list after deleting", "/sql").await;
    b.find(".ex-list .empty-state").await;
    assert!(
        w.names_in("sql").await.is_empty(),
        "the PostgreSQL store no longer holds the model"
    );
    b.check_no_console_errors().await;
    b.close().await;

    // A reader browses and shares, but gets no way to write.
    stack.add_user("onlooker", PASSWORD, &["reader"]).await;
    let r = stack.browser(DESKTOP).await;
    r.expect_network_error("status of 503"); // Redis is still down: its tab's health check
    r.goto(&w.url(
        "client",
        &format!("/login?return={}", urlencoding(&w.url("explorer", "/file"))),
    ))
    .await;
    r.fill("#login-username", "onlooker").await;
    r.fill("#login-password", PASSWORD).await;
    r.click("#login-submit").await;
    r.wait_url("back on the explorer", &w.url("explorer", "/file"))
        .await;
    r.find_text(".ex-row .row-name", "Bystander plan")
        .await
        .click()
        .await
        .unwrap();
    r.find_text(".model-header h2", "Bystander plan").await;
    r.find(".ex-actions .share").await;
    for writer_only in [
        ".new-model",
        ".ex-actions .edit",
        ".ex-actions .delete",
        ".transfer",
    ] {
        let n = r
            .eval(&format!(
                "return document.querySelectorAll('{writer_only}').length"
            ))
            .await;
        assert_eq!(n, 0, "a reader sees no {writer_only}");
    }
    r.check_no_console_errors().await;
    r.close().await;
}
