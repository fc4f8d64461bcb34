//! Issue 14 in the client, in headless Chromium through `sa-server dev` (real auth, real file
//! store, its history and change feed), with two browser sessions signed in as two different
//! writers: the automatic three-way merge, a conflict settled in the merge dialog, a page that
//! updates in place when the other writer saves, the history panel and a restore, the workspace
//! list following the feed, and where broken JSON is marked. Screenshots at both widths.

mod support;
use serde_json::{json, Value};
use support::browser::{Browser, Stack, DESKTOP, PHONE};

const ANN: (&str, &str) = ("ann", "correct horse battery");
const BOB: (&str, &str) = ("bob", "staple grape lantern");

// ---- set-up ----

async fn stack_with_writers() -> Stack {
    let stack = Stack::start().await;
    stack.add_user(ANN.0, ANN.1, &["writer"]).await;
    stack.add_user(BOB.0, BOB.1, &["writer"]).await;
    stack
}

/// Opens the model page and waits until the editor holds the document.
async fn open_model(b: &Browser, stack: &Stack, id: &str, contains: &str) {
    b.goto(&stack.url("client", &format!("/models/file/{id}")))
        .await;
    wait_editor_contains(b, contains).await;
}

async fn wait_editor_contains(b: &Browser, text: &str) {
    b.wait_js(
        &format!("the editor shows {text:?}"),
        &format!(
            "(document.getElementById('model-json') || {{}}).value?.includes({})",
            json!(text)
        ),
    )
    .await;
}

/// Replaces the editor's text (as a paste would), without saving.
async fn edit(b: &Browser, doc: &Value) {
    b.set_value(
        "#model-json",
        &serde_json::to_string_pretty(doc).expect("JSON"),
    )
    .await;
    b.check_text(".model-page .badge", "Unsaved changes").await;
}

/// Screenshots at both widths with `css` scrolled to the top of the view (below the editor).
async fn shots_of(b: &Browser, name: &str, css: &str) {
    for (size, width) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
        b.resize(size).await;
        b.eval_args(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})",
            vec![json!(css)],
        )
        .await;
        b.screenshot(&format!("{name}-{width}")).await;
    }
    b.resize(DESKTOP).await;
}

fn plant() -> Value {
    json!({
        "name": "Plant",
        "meta": {"author": "root", "rev": 1},
        "layers": [{"label": "ground"}, {"label": "pipes"}, {"label": "valves"}, {"label": "pumps"}]
    })
}

// ---- the scenarios ----

/// Issue 14, "must show" 1: edits at different paths from the same version merge by themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_at_different_paths_merge_automatically() {
    let stack = stack_with_writers().await;
    let id = stack.create_model("file", ANN, &plant().to_string()).await;
    let (a, b) = (stack.browser(DESKTOP).await, stack.browser(DESKTOP).await);
    a.sign_in(&stack, ANN).await;
    b.sign_in(&stack, BOB).await;
    open_model(&a, &stack, &id, "pumps").await;
    open_model(&b, &stack, &id, "pumps").await;

    let mut mine_a = plant();
    mine_a["meta"]["author"] = json!("ann");
    let mut mine_b = plant();
    mine_b["layers"][3]["label"] = json!("pumps and motors");
    edit(&a, &mine_a).await;
    edit(&b, &mine_b).await;

    a.click("#save-model").await;
    a.check_text("#save-status", "Saved").await;
    // B has edits: the page says who saved, and offers the diff and the merge.
    b.check_text("#live-notice", "ann saved a newer version")
        .await;
    b.screenshots("live-notice", DESKTOP).await;
    b.click("#live-see-changes").await;
    b.check_text("#live-diff li.diff-changed", "/meta/author")
        .await;
    b.check_text("#live-diff", "\"root\" → \"ann\"").await;
    b.screenshots("diff", DESKTOP).await;
    b.click("#changes-close").await;

    // B saves second: the store answers 412, the page merges and saves with the current ETag.
    b.expect_network_error("status of 412");
    b.click("#save-model").await;
    b.check_text(
        "#save-status",
        "1 change of yours and 1 of theirs were combined",
    )
    .await;
    let (doc, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(doc["meta"]["author"], json!("ann"), "A's edit is kept");
    assert_eq!(
        doc["layers"][3]["label"],
        json!("pumps and motors"),
        "B's edit is kept"
    );
    assert_eq!(doc["layers"][0]["label"], json!("ground"));
    // A had no edits left: the merged version arrives in place, naming B.
    a.check_text("#live-updated", "updated by bob just now")
        .await;
    wait_editor_contains(&a, "pumps and motors").await;
    a.check_no_console_errors().await;
    b.check_no_console_errors().await;
    a.close().await;
    b.close().await;
}

/// "Must show" 2: the same path changed on both sides is one conflict; "mine" wins there only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_lists_exactly_its_path_and_mine_wins_only_there() {
    let stack = stack_with_writers().await;
    let id = stack.create_model("file", ANN, &plant().to_string()).await;
    let (a, b) = (stack.browser(DESKTOP).await, stack.browser(DESKTOP).await);
    a.sign_in(&stack, ANN).await;
    b.sign_in(&stack, BOB).await;
    open_model(&a, &stack, &id, "pumps").await;
    open_model(&b, &stack, &id, "pumps").await;

    let mut theirs = plant();
    theirs["meta"]["author"] = json!("ann");
    theirs["name"] = json!("Plant (ann)");
    let mut mine = plant();
    mine["meta"]["author"] = json!("bob");
    edit(&a, &theirs).await;
    edit(&b, &mine).await;
    a.click("#save-model").await;
    a.check_text("#save-status", "Saved").await;
    b.check_text("#live-notice", "ann saved a newer version")
        .await;

    b.expect_network_error("status of 412");
    b.click("#save-model").await;
    b.find(".conflict-dialog[open] fieldset.merge-conflict")
        .await;
    let paths = b
        .eval(
            "return [...document.querySelectorAll('.conflict-dialog fieldset.merge-conflict')]\
             .map(f => f.dataset.path)",
        )
        .await;
    assert_eq!(paths, json!(["/meta/author"]), "the one conflicting path");
    b.check_text(
        ".conflict-dialog .merge-summary",
        "1 conflict needs a choice",
    )
    .await;
    b.screenshots("merge-dialog", DESKTOP).await;
    // Keyboard: the radios are a group; picking one enables the confirm button.
    b.click("#merge-0-mine").await;
    b.click(".conflict-dialog .merge-confirm").await;
    b.find_none(".conflict-dialog[open]").await;
    b.check_text("#save-status", "Saved").await;

    let (doc, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(doc["meta"]["author"], json!("bob"), "mine at the conflict");
    assert_eq!(doc["name"], json!("Plant (ann)"), "theirs elsewhere");
    assert_eq!(doc["layers"], plant()["layers"]);
    a.check_no_console_errors().await;
    b.check_no_console_errors().await;
    a.close().await;
    b.close().await;
}

/// "Must show" 3: B saves while A has no edits; A's page updates in place with B's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unedited_page_updates_in_place_with_the_writers_name() {
    let stack = stack_with_writers().await;
    let id = stack.create_model("file", ANN, &plant().to_string()).await;
    let (a, b) = (stack.browser(DESKTOP).await, stack.browser(DESKTOP).await);
    a.sign_in(&stack, ANN).await;
    b.sign_in(&stack, BOB).await;
    open_model(&a, &stack, &id, "pumps").await;
    open_model(&b, &stack, &id, "pumps").await;

    let mut doc = plant();
    doc["meta"]["rev"] = json!(2);
    doc["name"] = json!("Plant, rev 2");
    edit(&b, &doc).await;
    b.click("#save-model").await;
    b.check_text("#save-status", "Saved").await;

    // Bounded by the support's wait (15 s); the feed delivers well inside the 2 s.
    a.check_text("#live-updated", "updated by bob just now")
        .await;
    wait_editor_contains(&a, "Plant, rev 2").await;
    a.check_text("#model-title", "Plant, rev 2").await;
    a.check_text(".model-page .badge", "Saved").await;
    a.screenshots("live-updated", DESKTOP).await;
    a.check_no_console_errors().await;
    a.close().await;
    b.close().await;
}

/// "Must show" 5: three saves give three versions with the right names; restoring the first
/// brings its content back as a new version. A reader-free check: both are writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_each_save_and_restores_the_first() {
    let stack = stack_with_writers().await;
    let first = json!({"name": "Valve", "size": 1});
    let id = stack.create_model("file", ANN, &first.to_string()).await;
    stack
        .put_model("file", BOB, &id, &json!({"name": "Valve", "size": 2}))
        .await;
    let a = stack.browser(DESKTOP).await;
    a.sign_in(&stack, ANN).await;
    open_model(&a, &stack, &id, "\"size\": 2").await;
    edit(&a, &json!({"name": "Valve", "size": 3})).await;
    a.click("#save-model").await;
    a.check_text("#save-status", "Saved").await;

    a.click("#history-toggle").await;
    a.find(".history-list").await;
    let names = a
        .eval(
            "return [...document.querySelectorAll('.history-version .history-who')]\
             .map(e => e.textContent)",
        )
        .await;
    assert_eq!(names, json!(["ann", "bob", "ann"]), "newest first");
    let ops = a
        .eval(
            "return [...document.querySelectorAll('.history-version .history-op')]\
             .map(e => e.textContent)",
        )
        .await;
    assert_eq!(ops, json!(["updated", "updated", "created"]));
    a.find(".history-version:first-child .badge").await;
    a.find_none(".history-version:first-child .history-restore")
        .await;

    // The first version, diffed against the current one.
    a.click(".history-version:last-child .history-diff").await;
    a.check_text(
        ".history-version:last-child .diff li.diff-changed",
        "/size: 1 → 3",
    )
    .await;
    shots_of(&a, "history-diff", ".history-version:last-child").await;
    a.click(".history-version:last-child .history-view").await;
    a.check_text(".history-version:last-child .history-shown", "Valve")
        .await;
    shots_of(&a, "history-panel", "#history").await;

    a.click(".history-version:last-child .history-restore")
        .await;
    a.check_text("#save-status", "Restored").await;
    wait_editor_contains(&a, "\"size\": 1").await;
    let (doc, _) = stack.stored("file", ANN, &id).await;
    assert_eq!(doc, first, "the first version's content is current again");
    a.wait_js(
        "the history lists the restore",
        "document.querySelectorAll('.history-version').length === 4 && \
         document.querySelector('.history-version .history-op').textContent === 'restored'",
    )
    .await;
    a.check_no_console_errors().await;
    a.close().await;
}

/// A reader sees the history but no Restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_the_history_without_restore() {
    let stack = stack_with_writers().await;
    stack
        .add_user("rita", "quiet meadow river", &["reader"])
        .await;
    let id = stack
        .create_model("file", ANN, &json!({"name": "Gauge", "v": 1}).to_string())
        .await;
    stack
        .put_model("file", BOB, &id, &json!({"name": "Gauge", "v": 2}))
        .await;
    let r = stack.browser(DESKTOP).await;
    r.sign_in(&stack, ("rita", "quiet meadow river")).await;
    open_model(&r, &stack, &id, "\"v\": 2").await;
    r.click("#history-toggle").await;
    r.check_text(".history-version:last-child .history-who", "ann")
        .await;
    r.find(".history-version:last-child .history-diff").await;
    r.find_none(".history-restore").await;
    r.close().await;
}

/// Ann signed in, with one model ("Existing") in the file store.
async fn ann_with_one_model() -> (Stack, Browser) {
    let stack = stack_with_writers().await;
    stack
        .create_model("file", ANN, &json!({"name": "Existing"}).to_string())
        .await;
    let a = stack.browser(DESKTOP).await;
    a.sign_in(&stack, ANN).await;
    (stack, a)
}

/// A model created after the workspace's list was read but before its feeds were open still
/// shows: each feed starts from the cursor its store's list came with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_shows_a_model_created_before_its_feeds_open() {
    let (stack, a) = ann_with_one_model().await;
    a.hold_feeds().await;
    a.goto(&stack.url("client", "/")).await;
    a.check_text("#model-list", "Existing").await;
    a.wait_js(
        "the workspace asked for its feeds",
        "window.__saHeldFeeds > 0",
    )
    .await;

    stack
        .create_model("file", BOB, &json!({"name": "Made in between"}).to_string())
        .await;
    a.open_feeds().await;
    a.check_text("#model-list .workspace-row.row-fresh", "Made in between")
        .await;
    a.check_no_console_errors().await;
    a.close().await;
}

/// The workspace follows the feed: a model created and deleted elsewhere shows, highlighted,
/// without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_shows_new_and_deleted_models_live() {
    let (stack, a) = ann_with_one_model().await;
    a.check_text("#model-list", "Existing").await;
    a.eval("window.__same_page = true").await;

    let id = stack
        .create_model("file", BOB, &json!({"name": "Made by Bob"}).to_string())
        .await;
    a.check_text("#model-list .workspace-row.row-fresh", "Made by Bob")
        .await;
    a.screenshots("workspace-live", DESKTOP).await;
    let token = stack.token(BOB.0, BOB.1).await;
    let res = stack
        .http()
        .delete(stack.url("store", &format!("/file/api/model/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(res.status(), 204);
    a.check_text("#model-list .workspace-row.row-deleted", "Made by Bob")
        .await;
    a.wait_js(
        "the deleted row goes",
        "![...document.querySelectorAll('#model-list .workspace-row')]\
         .some(r => r.textContent.includes('Made by Bob'))",
    )
    .await;
    assert_eq!(
        a.eval("return window.__same_page === true").await,
        json!(true),
        "no reload happened"
    );
    a.check_no_console_errors().await;
    a.close().await;
}

/// Broken multi-line JSON: the status names line and column, the mark sits on that character;
/// valid JSON is highlighted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_json_is_marked_at_its_line_and_column() {
    let stack = stack_with_writers().await;
    let id = stack.create_model("file", ANN, &plant().to_string()).await;
    let a = stack.browser(DESKTOP).await;
    a.sign_in(&stack, ANN).await;
    open_model(&a, &stack, &id, "pumps").await;
    a.find(".sa-editor-highlight .tok-key").await;
    a.check_text("#model-json-status", "Valid JSON").await;
    a.screenshots("editor", DESKTOP).await;

    a.set_value(
        "#model-json",
        "{\n  \"name\": \"Plant\",\n  \"size\": ,\n  \"x\": 1\n}",
    )
    .await;
    a.check_text("#model-json-status", "line 3, column 11")
        .await;
    let marked = a
        .wait_js(
            "the error mark",
            "(() => { const lines = document.querySelectorAll('.sa-editor-highlight .sa-editor-line'); \
             const m = lines[2] && lines[2].querySelector('mark.tok-error'); \
             return m ? m.textContent : null })()",
        )
        .await;
    assert_eq!(marked, json!(","), "the mark is on the comma of line 3");
    assert_eq!(
        a.eval("return document.getElementById('model-json').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    a.screenshots("editor-error", DESKTOP).await;
    a.close().await;
}
