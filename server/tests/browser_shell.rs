//! Issue 2: both apps load through `sa-server dev` on their own hosts and render their shell in
//! headless Chromium; the client's explorer pop-over opens (button and Ctrl+K), closes on Esc
//! and gives focus back; no console errors.
mod support_browser;

use fantoccini::key::Key;
use support_browser::{Stack, DESKTOP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_apps_render_their_shell_and_the_explorer_pops_over() {
    let stack = Stack::start().await;
    let b = stack.browser(DESKTOP).await;

    // The client, on client.sa.localhost.
    b.goto(&stack.url("client", "/")).await;
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
    b.press(Key::Escape).await;
    b.find_none("dialog.explorer-dialog[open]").await;
    assert_eq!(b.focused().await, "open-explorer", "focus returns to the button that opened the explorer");

    // The pop-over from the keyboard: Ctrl+K from the brand link, Esc, focus back there.
    b.eval("document.querySelector('.app-header .brand').focus()").await;
    b.press_ctrl('k').await;
    b.find("dialog.explorer-dialog[open]").await;
    b.press(Key::Escape).await;
    b.find_none("dialog.explorer-dialog[open]").await;
    assert_eq!(b.focused().await, "A", "focus returns to the link that had it before Ctrl+K");
    b.check_no_console_errors().await;

    // The explorer on its own host.
    b.goto(&stack.url("explorer", "/")).await;
    b.find(".app-header .brand").await;
    b.find("[role=tablist]").await;
    b.screenshots("shell-explorer", DESKTOP).await;
    b.check_no_console_errors().await;
    b.close().await;
}
