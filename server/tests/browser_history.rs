//! Routing in both apps (leptos_router): back and forward through the client's pages, a deep
//! link reloaded on every route of both apps, and the client's explorer pop-over, which keeps
//! its place to itself and never adds to the client's history.

mod support;
use support::browser::{Browser, Stack, DESKTOP};

const ROOT: (&str, &str) = ("root", "s3cret-admin-pass");

// ---- actions ----

async fn back(b: &Browser) {
    b.client.back().await.expect("history back");
}

async fn forward(b: &Browser) {
    b.client.forward().await.expect("history forward");
}

async fn reload(b: &Browser) {
    b.client.refresh().await.expect("reload");
}

// ---- checks ----

/// The page shows `what` at `path` (and the browser's address says so too).
async fn check_at(b: &Browser, path: &str, css: &str, text: &str) {
    b.wait_js(
        &format!("the address is {path}"),
        &format!("location.pathname === {path:?}"),
    )
    .await;
    b.check_text(css, text).await;
}

async fn history_length(b: &Browser) -> u64 {
    b.eval("return history.length")
        .await
        .as_u64()
        .expect("history.length is a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_and_forward_across_workspace_model_workspace_admin() {
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let id = stack
        .create_model("file", ROOT, r#"{"name": "Turbine"}"#)
        .await;
    let b = stack.browser(DESKTOP).await;
    b.sign_in(&stack, ROOT).await;
    check_at(&b, "/", "#model-list", "Turbine").await;

    // Forward through the pages by their links, as a user does.
    b.click_text("#model-list a", "Turbine").await;
    let model = format!("/models/file/{id}");
    check_at(&b, &model, "#model-title", "Turbine").await;
    b.click_text(".breadcrumbs a", "Models").await;
    check_at(&b, "/", "#model-list", "Turbine").await;
    b.click_text(".app-header nav a", "Users").await;
    check_at(&b, "/admin", "#users-table", ROOT.0).await;

    // And back through them, then forward again.
    back(&b).await;
    check_at(&b, "/", "#model-list", "Turbine").await;
    back(&b).await;
    check_at(&b, &model, "#model-title", "Turbine").await;
    back(&b).await;
    check_at(&b, "/", "#model-list", "Turbine").await;
    forward(&b).await;
    check_at(&b, &model, "#model-title", "Turbine").await;
    forward(&b).await;
    check_at(&b, "/", "#model-list", "Turbine").await;
    forward(&b).await;
    check_at(&b, "/admin", "#users-table", ROOT.0).await;

    // The header marks the current page.
    let current = b
        .eval("return document.querySelector('.app-header nav a[aria-current=page]').textContent")
        .await;
    assert_eq!(
        current,
        serde_json::json!("Users"),
        "the Users link is current"
    );
    b.check_no_console_errors().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_link_reloaded_on_every_route_of_both_apps() {
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let id = stack
        .create_model("file", ROOT, r#"{"name": "Pump", "parts": [1]}"#)
        .await;
    let b = stack.browser(DESKTOP).await;
    b.sign_in(&stack, ROOT).await;

    let model = format!("/models/file/{id}");
    let client_routes: [(&str, &str, &str); 7] = [
        ("/", "#model-list", "Pump"),
        ("/new", "h1", "New model"),
        (&model, "#model-title", "Pump"),
        ("/admin", "#users-table", ROOT.0),
        ("/register", "h1", "Create an account"),
        ("/no/such/page", "h1", "Page not found"),
        // Signed in, the login page goes straight on to the workspace.
        ("/login", "#model-list", "Pump"),
    ];
    for (path, css, text) in client_routes {
        b.goto(&stack.url("client", path)).await;
        b.check_text(css, text).await;
        reload(&b).await;
        b.check_text(css, text).await;
    }

    let in_store = format!("/file/{id}");
    let explorer_routes: [(&str, &str, &str); 4] = [
        ("/", ".tab[aria-selected=true]", "File"),
        ("/file", ".ex-row", "Pump"),
        (&in_store, "#model-title", "Pump"),
        ("/a/b/c", ".empty-state", "No such page"),
    ];
    for (path, css, text) in explorer_routes {
        b.goto(&stack.url("explorer", path)).await;
        b.check_text(css, text).await;
        reload(&b).await;
        b.check_text(css, text).await;
    }
    // The opened model's tree says "1 item" for a one-element array (shown when folded).
    b.goto(&stack.url("explorer", &in_store)).await;
    b.click_text(".jt-toggle", "parts").await;
    b.check_text(".jt-summary", "1 item]").await;
    b.check_no_console_errors().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_pop_over_adds_no_history_entry() {
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    stack
        .create_model("file", ROOT, r#"{"name": "Valve"}"#)
        .await;
    let b = stack.browser(DESKTOP).await;
    b.sign_in(&stack, ROOT).await;
    b.find("#model-list").await;
    let before = history_length(&b).await;
    let path = b.eval("return location.pathname").await;

    // Browse inside the pop-over: the tab, a search, the new-model editor and back.
    b.click("#open-explorer").await;
    b.find_text("dialog.explorer-dialog[open] .ex-row", "Valve")
        .await;
    b.click("dialog.explorer-dialog[open] [role=tab][data-store=file]")
        .await;
    b.fill("dialog.explorer-dialog[open] input.search", "Val")
        .await;
    b.find_text("dialog.explorer-dialog[open] .list-status", "match")
        .await;
    b.click("dialog.explorer-dialog[open] .new-model").await;
    b.find("dialog.explorer-dialog[open] form.editor").await;
    b.click_text("dialog.explorer-dialog[open] form.editor button", "Cancel")
        .await;
    b.find_none("dialog.explorer-dialog[open] form.editor")
        .await;
    b.click("#close-explorer").await;
    b.find_none("dialog.explorer-dialog[open]").await;

    assert_eq!(
        history_length(&b).await,
        before,
        "browsing in the pop-over pushed history entries"
    );
    assert_eq!(
        b.eval("return location.pathname").await,
        path,
        "browsing in the pop-over changed the client's address"
    );

    // Picking a model is the client's own navigation: one entry, and back returns to the list.
    b.click("#open-explorer").await;
    b.click_text("dialog.explorer-dialog[open] .ex-row", "Valve")
        .await;
    b.check_text("#model-title", "Valve").await;
    assert_eq!(
        history_length(&b).await,
        before + 1,
        "a pick is one history entry"
    );
    back(&b).await;
    check_at(&b, "/", "#model-list", "Valve").await;
    b.check_no_console_errors().await;
    b.close().await;
}
