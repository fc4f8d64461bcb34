//! Issue 5: the client's user journey in headless Chromium, through `sa-server dev` with the
//! real auth service and file store: register, an admin grants writer, log in, create, edit,
//! a conflict from a second session resolved both ways, the explorer pop-over and a pick,
//! delete, log out; a reader's read-only view; reload keeps the session; SSO with the explorer;
//! no tokens in Web Storage; no console errors. Screenshots of every page at both widths.

mod support;
use support::browser::{Browser, Stack, DESKTOP};

const ROOT: (&str, &str) = ("root", "s3cret-admin-pass");
const ALICE: (&str, &str) = ("alice", "correct horse battery");

// ---- actions ----

async fn sign_out(b: &Browser) {
    b.click("#sign-out").await;
    b.find("#login-form").await;
    b.check_text(".session", "Not signed in").await;
}

/// Replaces the editor's text (as a paste would) and saves.
async fn save_model(b: &Browser, json: &str) {
    b.set_value("#model-json", json).await;
    b.click("#save-model").await;
}

// ---- checks ----

async fn check_no_token_in_web_storage(b: &Browser, origin: &str) {
    let stored = b
        .eval(
            "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])",
        )
        .await;
    let stored = stored.as_str().unwrap_or_default().to_string();
    assert!(
        !stored.contains("eyJ"),
        "a JWT is in Web Storage on {origin}: {stored}"
    );
}

async fn check_disabled(b: &Browser, css: &str) {
    let enabled = b.find(css).await.is_enabled().await.expect("is_enabled");
    assert!(!enabled, "{css} should be disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_grant_edit_conflict_pick_delete_logout() {
    let stack = Stack::start().await;
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let alice = stack.browser(DESKTOP).await;

    // 1. Register, with the form's own checks first.
    alice.goto(&stack.url("client", "/register")).await;
    alice.find("#register-form").await;
    alice.screenshots("register", DESKTOP).await;
    alice.fill("#register-username", ALICE.0).await;
    alice.fill("#register-password", "short").await;
    alice.click("#register-confirm").await;
    alice
        .check_text("#register-password-help", "At least 10 characters")
        .await;
    alice.fill("#register-password", ALICE.1).await;
    alice
        .fill("#register-confirm", "something else entirely")
        .await;
    alice
        .check_text("#register-confirm-help", "Does not match")
        .await;
    alice.screenshots("register-invalid", DESKTOP).await;
    alice.fill("#register-confirm", ALICE.1).await;
    alice.click("#register-submit").await;
    alice.wait_url("after registering", "welcome=1").await;
    alice.check_text("#session-user", "alice").await;
    alice.check_text("#session-user", "reader").await;

    // A reader: an empty workspace that says what to do, and no way to write.
    alice.check_text("#empty-models", "No models yet").await;
    alice.check_text("#empty-models", "writer role").await;
    alice.screenshots("workspace-empty-reader", DESKTOP).await;
    alice.click("#new-model").await;
    alice
        .check_text(
            "#read-only-notice",
            "Ask an admin to give you the writer role",
        )
        .await;
    check_disabled(&alice, "#create-model").await;
    alice.screenshots("new-model-reader", DESKTOP).await;

    // 2. An admin grants writer, in a second browser.
    let root = stack.browser(DESKTOP).await;
    root.sign_in(&stack, ROOT).await;
    root.click_text(".app-header nav a", "Users").await;
    root.find("#users-table tr[data-user='alice']").await;
    root.screenshots("admin", DESKTOP).await;
    root.eval_args(
        "const s = document.getElementById(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));",
        vec!["role-alice".into(), "writer".into()],
    )
    .await;
    root.click("#users-table tr[data-user='alice'] .save-role")
        .await;
    root.check_text(".notice.ok", "alice is now writer").await;

    // 3. Alice signs in again; her new token carries the writer role.
    sign_out(&alice).await;
    alice.screenshots("login", DESKTOP).await;
    alice.fill("#login-username", ALICE.0).await;
    alice.fill("#login-password", "wrong password").await;
    alice.expect_network_error(
        "/api/login - Failed to load resource: the server responded with a status of 401",
    );
    alice.click("#login-submit").await;
    alice.find("#login-form .notice.error").await;
    alice.screenshots("login-failed", DESKTOP).await;
    alice.sign_in(&stack, ALICE).await;
    alice.check_text("#session-user", "writer").await;

    // A reload keeps the session (refresh cookie → new access token).
    alice.client.refresh().await.expect("reload");
    alice.check_text("#session-user", "alice").await;
    alice.find("#empty-models").await;
    alice.screenshots("workspace-empty-writer", DESKTOP).await;

    // 4. Create a model in the shared editor (highlighted, line numbers); it checks the JSON
    //    as it is typed, and the page says when JSON that parses is no model.
    alice.click("#new-model").await;
    alice.find("#new-model-json").await;
    alice.find(".sa-editor-gutter").await;
    alice.find(".sa-editor-layer .tok-key").await;
    alice.set_value("#new-model-json", "[1, 2]").await;
    alice
        .check_text("#new-model-problem", "must be a JSON object")
        .await;
    check_disabled(&alice, "#create-model").await;
    alice
        .set_value("#new-model-json", "{\"name\": \"Pump station\",")
        .await;
    alice
        .check_text("#new-model-json-status", "at line 1, column")
        .await;
    check_disabled(&alice, "#create-model").await;
    alice.screenshots("new-model-invalid", DESKTOP).await;
    alice
        .set_value(
            "#new-model-json",
            r#"{"name": "Pump station", "elements": []}"#,
        )
        .await;
    alice
        .check_text("#new-model-json-status", "Valid JSON")
        .await;
    alice.click("#create-model").await;
    alice.wait_url("after creating", "/models/file/").await;
    alice.check_text("#model-title", "Pump station").await;
    let model_url = alice.client.current_url().await.expect("url").to_string();
    let id = model_url
        .rsplit('/')
        .next()
        .expect("id in the URL")
        .to_string();

    // 5. Edit and save (If-Match with the ETag from the load).
    save_model(&alice, r#"{"name": "Pump station A", "elements": [1]}"#).await;
    alice.check_text("#save-status", "Saved").await;
    alice.check_text("#model-title", "Pump station A").await;
    alice.screenshots("model", DESKTOP).await;

    // 6. A second session saves a newer version while Alice edits: her page says so, and her
    // save meets a 412 and merges. Both sides changed both paths: she keeps hers.
    root.goto(&model_url).await;
    root.check_text("#model-title", "Pump station A").await;
    alice
        .set_value(
            "#model-json",
            r#"{"name": "Pump station C", "elements": [1, 3]}"#,
        )
        .await;
    save_model(&root, r#"{"name": "Pump station B", "elements": [1, 2]}"#).await;
    root.check_text("#save-status", "Saved").await;
    alice
        .check_text("#live-notice", "root saved a newer version")
        .await;
    alice.expect_network_error("status of 412");
    alice.click("#save-model").await;
    alice.find(".conflict-dialog[open]").await;
    alice
        .check_text(
            ".conflict-dialog fieldset[data-path='/name']",
            "Pump station B",
        )
        .await;
    alice
        .check_text(
            ".conflict-dialog fieldset[data-path='/name']",
            "Pump station C",
        )
        .await;
    alice.screenshots("conflict", DESKTOP).await;
    alice.click("#merge-0-mine").await;
    alice.click("#merge-1-mine").await;
    alice.click(".conflict-dialog .merge-confirm").await;
    alice.check_text("#save-status", "Saved").await;
    // Root had no edits: the page took Alice's version in place.
    root.check_text("#model-title", "Pump station C").await;
    root.client.refresh().await.expect("reload");
    root.check_text("#model-title", "Pump station C").await;

    // …and once more, resolved the other way: reload theirs.
    alice
        .set_value(
            "#model-json",
            r#"{"name": "Pump station E", "elements": []}"#,
        )
        .await;
    save_model(&root, r#"{"name": "Pump station D", "elements": []}"#).await;
    root.check_text("#save-status", "Saved").await;
    alice
        .check_text("#live-notice", "root saved a newer version")
        .await;
    alice.click("#save-model").await;
    alice.find(".conflict-dialog[open]").await;
    alice.click("#conflict-reload").await;
    alice.find_none(".conflict-dialog[open]").await;
    alice.check_text("#model-title", "Pump station D").await;
    alice
        .check_text("#save-status", "Loaded the newer version")
        .await;

    // The workspace lists it.
    alice.click_text(".app-header nav a", "Models").await;
    alice.check_text("#model-list", "Pump station D").await;
    alice.screenshots("workspace", DESKTOP).await;

    // Silent refresh: with the clock moved to 30 s before the token expires, the next store
    // call first trades the refresh cookie for a new token, and the call still works.
    let token_calls = "performance.getEntriesByType('resource').filter(e => e.name.endsWith('/api/token')).length";
    let before = alice
        .eval(&format!("return {token_calls}"))
        .await
        .as_u64()
        .expect("a count");
    alice
        .eval("const real = Date.now.bind(Date); Date.now = () => real() + (15 * 60 - 30) * 1000;")
        .await;
    alice.click_text(".section-head button", "Refresh").await;
    alice
        .wait_js(
            "a token refresh before the store call",
            &format!("{token_calls} > {before}"),
        )
        .await;
    alice.check_text("#model-list", "Pump station D").await;

    // 7. The explorer pop-over, 8. pick the model there: the dialog closes, the model opens.
    alice.click("#open-explorer").await;
    let row = format!("dialog.explorer-dialog[open] [role=option][data-id='{id}']");
    alice.find(&row).await;
    alice.screenshots("explorer-pop-over", DESKTOP).await;
    alice.click(&row).await;
    alice.find_none("dialog.explorer-dialog[open]").await;
    alice
        .wait_url("after picking", &format!("/models/file/{id}"))
        .await;
    alice.check_text("#model-title", "Pump station D").await;

    // SSO: the explorer on its own host is signed in as Alice; no token in Web Storage.
    check_no_token_in_web_storage(&alice, "client").await;
    alice.goto(&stack.url("explorer", "/")).await;
    alice.check_text(".app-header", "alice").await;
    check_no_token_in_web_storage(&alice, "explorer").await;
    alice.check_no_console_errors().await;

    // 9. Delete, after confirming.
    alice.goto(&model_url).await;
    alice.click("#delete-model").await;
    alice.find("[role=alertdialog][open]").await;
    alice.check_text("#delete-title", "Pump station D").await;
    alice.screenshots("delete-confirm", DESKTOP).await;
    alice.click("#delete-confirm").await;
    alice.wait_url("after deleting", "deleted=").await;
    alice.check_text("#deleted-notice", "Pump station D").await;
    alice.find("#empty-models").await;

    // 10. Log out: both apps are signed out.
    sign_out(&alice).await;
    alice.goto(&stack.url("explorer", "/")).await;
    alice.check_text(".app-header", "Not signed in").await;
    alice.goto(&stack.url("client", "/new")).await;
    alice
        .wait_url("signed-out deep link", "/login?return=")
        .await;

    // Signing in from there goes back to the page asked for.
    alice.fill("#login-username", ALICE.0).await;
    alice.fill("#login-password", ALICE.1).await;
    alice.click("#login-submit").await;
    alice.wait_url("back at the deep link", "/new").await;
    alice.find("#new-model-form").await;
    sign_out(&alice).await;

    alice.check_no_console_errors().await;
    root.check_no_console_errors().await;
    alice.close().await;
    root.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_only_to_the_app_hosts() {
    let stack = Stack::start().await;
    stack
        .add_user("bob", "reader-secret-123", &["reader"])
        .await;
    let b = stack.browser(DESKTOP).await;

    // The explorer sends its users here and gets them back.
    let back = stack.url("explorer", "/?from=login");
    b.goto(&format!(
        "{}?return={}",
        stack.url("client", "/login"),
        urlencode(&back)
    ))
    .await;
    b.check_text(".auth-card", "you go back to the explorer")
        .await;
    b.fill("#login-username", "bob").await;
    b.fill("#login-password", "reader-secret-123").await;
    b.click("#login-submit").await;
    b.wait_url("returned to the explorer", &back).await;
    b.check_text(".app-header", "bob").await;

    // Signed in already, a return link goes straight on (SSO), but never to a foreign host.
    b.goto(&format!(
        "{}?return={}",
        stack.url("client", "/login"),
        urlencode("http://evil.example/steal")
    ))
    .await;
    b.wait_js(
        "stays on the client",
        "location.pathname === '/' && location.host.startsWith('client.')",
    )
    .await;
    b.goto(&format!(
        "{}?return={}",
        stack.url("client", "/login"),
        urlencode("//evil.example/")
    ))
    .await;
    b.wait_js(
        "stays on the client",
        "location.pathname === '/' && location.host.startsWith('client.')",
    )
    .await;

    // A reader opening a model sees it read-only, with the reason and the way out.
    stack.add_user(ROOT.0, ROOT.1, &["admin"]).await;
    let id = stack
        .create_model("file", ROOT, r#"{"name": "Boiler"}"#)
        .await;
    b.goto(&stack.url("client", &format!("/models/file/{id}")))
        .await;
    b.check_text("#model-title", "Boiler").await;
    b.check_text("#read-only-notice", "writer role").await;
    let readonly = b
        .eval("return document.getElementById('model-json').readOnly")
        .await;
    assert_eq!(
        readonly,
        serde_json::json!(true),
        "the editor is read-only for a reader"
    );
    check_disabled(&b, "#save-model").await;
    check_disabled(&b, "#delete-model").await;
    b.screenshots("model-reader", DESKTOP).await;
    b.check_no_console_errors().await;
    b.close().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `layout: compact` in `/config.json` (what the gateway's mobile route serves) gives the
/// compact layout even on a wide screen. The client is served by the static role on its own
/// port here, because the dev gateway always says `standard`; its auth URL points back at that
/// server, which has no auth API, so the session simply stays signed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_layout_comes_from_the_runtime_config() {
    use sa_server::static_site::{router, Site};
    use sa_shared::config::{Layout, RuntimeConfig};

    let stack = Stack::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let mut config = RuntimeConfig::for_domain("http", "sa.localhost", Some(stack.addr.port()));
    config.layout = Layout::Compact;
    config.auth_url = origin.clone();
    config.client_url = origin.clone();
    let app = router(Site {
        dir: support::browser::dist_dir().join("client"),
        config,
    })
    .expect("static client");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let b = stack.browser(DESKTOP).await;
    b.expect_network_error(&format!("{origin}/api/token - Failed to load resource"));
    b.goto(&format!("{origin}/login")).await;
    b.find(".app.compact #login-form").await;
    let width = b
        .eval("return getComputedStyle(document.querySelector('main')).maxWidth")
        .await;
    assert_eq!(
        width,
        serde_json::json!("576px"),
        "the compact layout keeps the phone column on a wide screen"
    );
    b.screenshot("login-compact-desktop").await;
    b.check_no_console_errors().await;
    b.close().await;
}
