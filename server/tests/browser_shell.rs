//! Issue 2: both apps load through `sa-server dev` on their own hosts and render their shell in
//! headless Chromium; the client's explorer pop-over opens (button and Ctrl+K), closes on Esc
//! and gives focus back; no console errors.

mod support;
use fantoccini::key::Key;
use support::browser::{Stack, DESKTOP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_apps_render_their_shell_and_the_explorer_pops_over() {
    let stack = Stack::start().await;
    let b = stack.browser(DESKTOP).await;

    // The client, on client.sa.localhost.
    // Signed out, the workspace sends the visitor to the login page (and back afterwards).
    b.goto(&stack.url("client", "/")).await;
    b.wait_url("signed-out visitor", "/login?return=%2F").await;
    b.find("#login-form").await;
    b.find(".app-header .brand").await;
    b.find("#open-explorer").await;
    b.find("main h1").await;
    b.screenshots("shell-client", DESKTOP).await;

    // The pop-over from its button: labelled, closes on Esc, focus back on the button.
    b.click("#open-explorer").await;
    b.find("dialog.explorer-dialog[open]").await;
    let label = b.eval("const d = document.querySelector('dialog.explorer-dialog'); return document.getElementById(d.getAttribute('aria-labelledby')).textContent").await;
    assert_eq!(label, "Explorer", "the dialog is labelled by its heading");
    b.find("dialog.explorer-dialog[open] [role=tablist]").await;
    b.screenshots("shell-client-explorer-open", DESKTOP).await;
    // Focus is trapped: Tab and Shift+Tab never leave the dialog.
    for i in 0..12 {
        if i < 8 {
            b.press(Key::Tab).await
        } else {
            b.press_shift_tab().await
        }
        let inside = b.eval("const d = document.querySelector('dialog.explorer-dialog'); return d.contains(document.activeElement) && document.activeElement !== d").await;
        assert_eq!(
            inside,
            serde_json::json!(true),
            "focus left the explorer dialog after {} Tab presses: on {}",
            i + 1,
            b.focused().await
        );
    }
    b.press(Key::Escape).await;
    b.find_none("dialog.explorer-dialog[open]").await;
    assert_eq!(
        b.focused().await,
        "open-explorer",
        "focus returns to the button that opened the explorer"
    );

    // The pop-over from the keyboard: Ctrl+K from the brand link, Esc, focus back there.
    b.eval("document.querySelector('.app-header .brand').focus()")
        .await;
    b.press_ctrl('k').await;
    b.find("dialog.explorer-dialog[open]").await;
    b.press(Key::Escape).await;
    b.find_none("dialog.explorer-dialog[open]").await;
    assert_eq!(
        b.focused().await,
        "A",
        "focus returns to the link that had it before Ctrl+K"
    );
    b.check_no_console_errors().await;

    // The explorer on its own host.
    b.goto(&stack.url("explorer", "/")).await;
    b.find(".app-header .brand").await;
    b.find("[role=tablist]").await;
    b.screenshots("shell-explorer", DESKTOP).await;
    b.check_no_console_errors().await;
    b.close().await;
}

/// The harness itself: an error thrown while a page starts must reach `console_errors`, or
/// every "no console errors" check above would prove nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_capture_sees_errors_thrown_at_page_start() {
    let stack = Stack::start().await;
    let b = stack.browser(DESKTOP).await;
    b.goto("data:text/html,<!doctype html><title>t</title><script>throw new Error('boom at start')</script><p id=x>x</p>").await;
    b.find("#x").await;
    let errors = b.console_errors().await;
    assert!(
        errors.iter().any(|e| e.message.contains("boom at start")),
        "the thrown error is captured: {errors:?}"
    );
    b.close().await;
}
