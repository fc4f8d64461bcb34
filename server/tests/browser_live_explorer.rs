//! The explorer live: two writers, each in their own headless Chromium, through `sa-server dev`.
//!
//! - A model that B creates shows in A's open tab without a reload, marked for a moment; B's
//!   changes and deletes follow. So does one B creates after A's list was read but before
//!   A's feed was open.
//! - A model B deletes in the client is restored from A's "Recently deleted", back in the list
//!   with its content intact.
//! - A reader sees "Recently deleted" without "Restore".
//! - An open model follows B's saves: in place with no edit open, as a notice during an edit;
//!   its History lists who saved, and restoring the first version brings it back.

mod support;
use serde_json::{json, Value};
use support::browser::{Browser, Stack, DESKTOP, PHONE};

const ANN: (&str, &str) = ("ann", "tulip harbour quartz 71");
const BOB: (&str, &str) = ("bob", "copper meadow violin 82");
const RITA: (&str, &str) = ("rita", "lantern pebble orbit 93");

/// The file store's models, as the gateway routes them.
const MODELS: &str = "/file/api/model";

// ---- set-up ----

async fn two_writers() -> Stack {
    let stack = Stack::start().await;
    stack.add_user(ANN.0, ANN.1, &["writer"]).await;
    stack.add_user(BOB.0, BOB.1, &["writer"]).await;
    stack
}

// ---- actions ----

/// Signs in on the client's login page (the explorer shares the session), then opens the
/// explorer at `path`.
async fn sign_in(b: &Browser, stack: &Stack, who: (&str, &str), path: &str) {
    b.sign_in(stack, who).await;
    b.goto(&stack.url("explorer", path)).await;
    b.find_text(".app-header .session-state", who.0).await;
}

/// Marks the page, so a later check can tell it was never reloaded.
async fn mark_page(b: &Browser) {
    b.eval("window.__saSamePage = true; return true").await;
}

// ---- checks ----

async fn check_same_page(b: &Browser, what: &str) {
    assert_eq!(
        b.eval("return window.__saSamePage === true").await,
        json!(true),
        "{what}: the page was reloaded"
    );
}

/// The names in the list, top to bottom.
async fn listed(b: &Browser) -> Vec<String> {
    let v = b
        .eval("return [...document.querySelectorAll('.live-list:not([hidden]) .ex-row .row-name')].map(e => e.textContent)")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// A write that lands after A's list was read but before A's feed is open still reaches A's
/// tab: the feed starts from the cursor the list came with, not from "now".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_created_before_the_feed_opens_still_shows() {
    let stack = two_writers().await;
    stack
        .create_model("file", ANN, &json!({"name": "Existing pump"}).to_string())
        .await;
    let a = stack.browser(DESKTOP).await;
    a.sign_in(&stack, ANN).await;
    a.hold_feeds().await;
    a.goto(&stack.url("explorer", "/file")).await;
    a.check_text(".ex-row", "Existing pump").await;
    a.wait_js("the tab asked for its feed", "window.__saHeldFeeds > 0")
        .await;
    mark_page(&a).await;

    stack
        .create_model(
            "file",
            BOB,
            &json!({"name": "Written in between"}).to_string(),
        )
        .await;
    a.open_feeds().await;

    a.check_text(".ex-row.live-new", "Written in between").await;
    assert_eq!(listed(&a).await, ["Written in between", "Existing pump"]);
    a.check_text(".list-status", "2 of 2 models").await;
    check_same_page(&a, "after the held feed opened").await;
    a.check_no_console_errors().await;
    a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_another_writer_creates_shows_in_the_open_tab_without_a_reload() {
    let stack = two_writers().await;
    stack
        .create_model("file", ANN, &json!({"name": "Existing pump"}).to_string())
        .await;
    let a = stack.browser(DESKTOP).await;
    let b = stack.browser(DESKTOP).await;
    sign_in(&a, &stack, ANN, "/file").await;
    a.check_text(".ex-row", "Existing pump").await;
    a.check_text(".list-status", "1 of 1 models").await;
    mark_page(&a).await;

    // B creates a model in their own explorer.
    sign_in(&b, &stack, BOB, "/file").await;
    b.click(".new-model").await;
    b.set_value("#model-json", r#"{"name": "Bob's turbine", "blades": 3}"#)
        .await;
    b.click("form.editor button.save").await;
    b.check_text("#model-title", "Bob's turbine").await;

    // A's tab lists it, on top (newest first), marked as new, and says who added it.
    a.check_text(".ex-row.live-new", "Bob's turbine").await;
    a.check_text(".live-note", "“Bob's turbine” was added by bob.")
        .await;
    assert_eq!(listed(&a).await, ["Bob's turbine", "Existing pump"]);
    a.check_text(".list-status", "2 of 2 models").await;
    // The mark goes after its moment.
    a.wait_js(
        "the new-row mark cleared",
        "!document.querySelector('.ex-row.live-new')",
    )
    .await;
    check_same_page(&a, "after B's create").await;

    // A change by B redraws the row with its new name; a delete takes it out.
    let id = b
        .eval("return location.pathname.split('/').pop()")
        .await
        .as_str()
        .unwrap()
        .to_string();
    stack
        .put_model("file", BOB, &id, &json!({"name": "Bob's big turbine"}))
        .await;
    a.check_text(".ex-row.live-changed", "Bob's big turbine")
        .await;
    a.check_text(".live-note", "was changed by bob").await;
    // Shown at both widths, each with a fresh change so the mark is on screen.
    a.screenshot("explorer-live-list-desktop").await;
    a.resize(PHONE).await;
    stack
        .put_model("file", BOB, &id, &json!({"name": "Bob's bigger turbine"}))
        .await;
    a.check_text(".ex-row.live-changed", "Bob's bigger turbine")
        .await;
    a.screenshot("explorer-live-list-phone").await;
    a.resize(DESKTOP).await;

    stack.delete_model("file", BOB, &id).await;
    a.check_text(".live-note", "was deleted by bob").await;
    a.wait_js(
        "the deleted row left the list",
        "[...document.querySelectorAll('.ex-row .row-name')].every(e => !e.textContent.includes('turbine'))",
    )
    .await;
    assert_eq!(listed(&a).await, ["Existing pump"]);
    a.check_text(".list-status", "1 of 1 models").await;
    check_same_page(&a, "after B's change and delete").await;

    // The keyboard still walks the list.
    a.click(".list-viewport").await;
    a.press(fantoccini::key::Key::Enter).await;
    a.check_text("#model-title", "Existing pump").await;

    a.check_no_console_errors().await;
    b.check_no_console_errors().await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_deleted_in_the_client_is_restored_from_recently_deleted() {
    let stack = two_writers().await;
    let doc = json!({
        "name": "Gearbox",
        "meta": {"author": "ann", "rev": 4},
        "layers": [{"label": "shaft"}, {"label": "gears", "teeth": [12, 36]}]
    });
    let id = stack.create_model("file", ANN, &doc.to_string()).await;
    stack
        .create_model("file", ANN, &json!({"name": "Bearing"}).to_string())
        .await;
    let a = stack.browser(DESKTOP).await;
    let b = stack.browser(DESKTOP).await;
    sign_in(&a, &stack, ANN, "/file").await;
    a.check_text(".ex-row", "Gearbox").await;
    mark_page(&a).await;

    // B deletes it on the client's model page.
    sign_in(&b, &stack, BOB, "/").await;
    b.goto(&stack.url("client", &format!("/models/file/{id}")))
        .await;
    b.check_text("#model-title", "Gearbox").await;
    b.click("#delete-model").await;
    b.click("#delete-confirm").await;
    b.check_text("#deleted-notice", "Gearbox").await;

    // A's list drops it by itself; "Recently deleted" has it, with who-knows-when and size.
    a.wait_js(
        "Gearbox left A's list",
        "[...document.querySelectorAll('.ex-row .row-name')].every(e => e.textContent !== 'Gearbox')",
    )
    .await;
    a.click(".show-deleted").await;
    a.check_text(".deleted-row .row-name", "Gearbox").await;
    a.check_text(".deleted-row .row-meta", "deleted ").await;
    assert_eq!(
        a.eval("return document.querySelector('.show-deleted').getAttribute('aria-pressed')")
            .await,
        json!("true")
    );
    a.screenshots("explorer-recently-deleted", DESKTOP).await;

    a.click(".deleted-row .restore").await;
    a.check_text(".deleted-view .ex-notice", "Restored “Gearbox”")
        .await;
    a.wait_js(
        "the restored row left Recently deleted",
        "!document.querySelector('.deleted-row')",
    )
    .await;
    a.check_text(
        ".deleted-view .empty-state",
        "Nothing was deleted here recently",
    )
    .await;

    // Back in the list, and its content is what was deleted.
    a.click(".show-deleted").await;
    a.check_text(".live-list .ex-row", "Gearbox").await;
    check_same_page(&a, "after the restore").await;
    let (stored, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(stored, doc, "the restored model has its content back");
    // History says who deleted it and who brought it back.
    let versions: Value = stack
        .http()
        .get(stack.url("store", &format!("{MODELS}/{id}/versions")))
        .bearer_auth(stack.token(ANN.0, ANN.1).await)
        .send()
        .await
        .expect("GET versions")
        .json()
        .await
        .expect("a version page");
    let ops: Vec<(String, String)> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["op"].as_str().unwrap().to_string(),
                v["by"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("restored".to_string(), ANN.0.to_string()),
            ("deleted".to_string(), BOB.0.to_string()),
            ("created".to_string(), ANN.0.to_string()),
        ]
    );
    // B's client shows it again too (a plain load).
    b.goto(&stack.url("client", &format!("/models/file/{id}")))
        .await;
    b.check_text("#model-title", "Gearbox").await;

    a.check_no_console_errors().await;
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_recently_deleted_without_restore() {
    let stack = two_writers().await;
    stack.add_user(RITA.0, RITA.1, &["reader"]).await;
    let id = stack
        .create_model("file", ANN, &json!({"name": "Old valve"}).to_string())
        .await;
    stack.delete_model("file", ANN, &id).await;
    let r = stack.browser(DESKTOP).await;
    sign_in(&r, &stack, RITA, "/file").await;
    r.check_text(".ex-list .empty-state", "No models here yet")
        .await;
    r.click(".show-deleted").await;
    r.check_text(".deleted-row .row-name", "Old valve").await;
    r.find_none(".deleted-row .restore").await;
    r.find_none(".new-model").await;
    r.screenshot("explorer-recently-deleted-reader").await;
    r.check_no_console_errors().await;
    r.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_follows_another_writers_saves() {
    let stack = two_writers().await;
    let id = stack
        .create_model(
            "file",
            ANN,
            &json!({"name": "Compressor", "stages": 2}).to_string(),
        )
        .await;
    let a = stack.browser(DESKTOP).await;
    sign_in(&a, &stack, ANN, &format!("/file/{id}")).await;
    a.check_text("#model-title", "Compressor").await;
    mark_page(&a).await;

    // No edit open: the model reloads in place and says who saved.
    stack
        .put_model(
            "file",
            BOB,
            &id,
            &json!({"name": "Compressor", "stages": 3}),
        )
        .await;
    a.check_text(".live-notice", "This model was updated by bob just now.")
        .await;
    a.check_text(".json-tree", "3").await;
    check_same_page(&a, "after B's save").await;

    // During an edit: a notice, and the edit stays.
    a.click(".ex-actions .edit").await;
    a.find("#model-json").await;
    stack
        .put_model(
            "file",
            BOB,
            &id,
            &json!({"name": "Compressor II", "stages": 4}),
        )
        .await;
    a.check_text(".live-notice", "bob saved a newer version.")
        .await;
    a.find("#model-json").await;
    a.screenshots("explorer-live-notice", DESKTOP).await;
    // Taking theirs closes the edit and shows their version.
    a.click(".live-notice .take-theirs").await;
    a.check_text("#model-title", "Compressor II").await;
    a.find_none("#model-json").await;
    check_same_page(&a, "after taking B's version").await;

    // History lists the three writes with who made them; restoring the first brings it back
    // in place, as a new version.
    a.click(".show-history").await;
    a.wait_js(
        "three versions listed",
        "document.querySelectorAll('.history-version').length === 3",
    )
    .await;
    let who = a
        .eval("return [...document.querySelectorAll('.history-version .history-who')].map(e => e.textContent)")
        .await;
    assert_eq!(who, json!(["bob", "bob", "ann"]));
    a.screenshots("explorer-history", DESKTOP).await;
    a.click(".history-version:last-child .history-restore")
        .await;
    a.check_text("#model-title", "Compressor").await;
    a.wait_js(
        "the restore is the newest version",
        "document.querySelectorAll('.history-version').length === 4 && document.querySelector('.history-version .history-op').textContent === 'restored'",
    )
    .await;
    let (stored, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(stored, json!({"name": "Compressor", "stages": 2}));
    check_same_page(&a, "after the restore from history").await;

    a.check_no_console_errors().await;
    a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_merges_with_another_writers_save_and_a_conflict_asks() {
    let stack = two_writers().await;
    let plant = |name: &str, author: &str, label: &str| json!({"name": name, "meta": {"author": author}, "layers": [{"label": "a"}, {"label": label}]});
    let id = stack
        .create_model("file", ANN, &plant("Pump", "ann", "b").to_string())
        .await;
    let a = stack.browser(DESKTOP).await;
    sign_in(&a, &stack, ANN, &format!("/file/{id}")).await;
    a.check_text("#model-title", "Pump").await;

    // A edits /meta/author while B saves /layers/1/label: "Merge now" combines both.
    a.click(".ex-actions .edit").await;
    a.find("#model-json").await;
    a.set_value("#model-json", &plant("Pump", "ann k", "b").to_string())
        .await;
    stack
        .put_model("file", BOB, &id, &plant("Pump", "ann", "b2"))
        .await;
    a.check_text(".live-notice", "bob saved a newer version.")
        .await;
    a.click(".live-notice .merge-now").await;
    a.check_text(
        ".ex-notice",
        "Merged and saved: 1 change of yours and 1 of theirs were combined.",
    )
    .await;
    let (stored, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(stored, plant("Pump", "ann k", "b2"), "both edits kept");

    // Both change /name: the refused save (412) asks about exactly that path; mine wins there.
    a.click(".ex-actions .edit").await;
    a.find("#model-json").await;
    a.set_value(
        "#model-json",
        &plant("Ann's pump", "ann k", "b2").to_string(),
    )
    .await;
    stack
        .put_model("file", BOB, &id, &plant("Bob's pump", "ann k", "b3"))
        .await;
    a.check_text(".live-notice", "bob saved a newer version.")
        .await;
    a.expect_network_error("status of 412");
    a.click("form.editor button.save").await;
    a.find(".ex-merge fieldset.merge-conflict").await;
    let paths = a
        .eval("return [...document.querySelectorAll('.ex-merge fieldset.merge-conflict legend')].map(e => e.textContent)")
        .await;
    assert_eq!(
        paths.as_array().map(Vec::len),
        Some(1),
        "one conflict: {paths}"
    );
    assert!(
        paths[0].as_str().unwrap_or_default().contains("/name"),
        "{paths}"
    );
    a.screenshots("explorer-merge", DESKTOP).await;
    a.click("#merge-0-mine").await;
    a.click(".ex-merge .merge-confirm").await;
    a.check_text(".ex-notice", "Saved with your choices.").await;
    let (stored, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(
        stored,
        plant("Ann's pump", "ann k", "b3"),
        "mine at /name, theirs elsewhere"
    );

    a.check_no_console_errors().await;
    a.close().await;
}
