//! The explorer as a modal pop-over: a `<dialog>` that traps focus, closes on Esc and gives
//! focus back to what had it.
use leptos::{ev, html, prelude::*};
use wasm_bindgen::JsCast;

#[component]
pub fn ExplorerDialog(config: sa_shared::config::RuntimeConfig, open: RwSignal<bool>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);

    Effect::new(move |_| {
        let Some(d) = dialog.get() else { return };
        if open.get() {
            if !d.open() {
                let active = document().active_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                opener.set_value(active);
                let _ = d.show_modal();
            }
        } else if d.open() {
            d.close();
        }
    });

    // Ctrl+K (or Cmd+K) opens the explorer from anywhere in the client.
    let _ = window_event_listener(ev::keydown, move |e| {
        if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
            e.prevent_default();
            open.set(true);
        }
    });

    let on_close = move |_| {
        open.set(false);
        if let Some(el) = opener.get_value() {
            let _ = el.focus();
        }
    };

    view! {
        <dialog node_ref=dialog class="explorer-dialog" aria-labelledby="explorer-dialog-title" on:close=on_close>
            <div class="dialog-header">
                <h2 id="explorer-dialog-title">"Explorer"</h2>
                <button type="button" class="icon" aria-label="Close explorer" on:click=move |_| open.set(false)>"×"</button>
            </div>
            <sa_explorer::Explorer session=sa_shared::web::session::Session::new(config) compact=true />
        </dialog>
    }
}
