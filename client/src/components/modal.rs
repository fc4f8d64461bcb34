//! A modal `<dialog>`: the browser makes the rest of the page inert (so focus stays inside),
//! Esc closes it, and focus goes back to what had it before.
use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

#[component]
pub fn Modal(
    /// Open while true; the dialog sets it false when the user closes it (Esc, a close button).
    open: RwSignal<bool>,
    /// The id of the heading inside `children` that names the dialog.
    #[prop(into)]
    labelled_by: String,
    #[prop(optional, into)] class: String,
    /// `alertdialog` for confirmations, so screen readers treat it as urgent.
    #[prop(optional)]
    alert: bool,
    children: Children,
) -> impl IntoView {
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

    let on_close = move |_| {
        open.set(false);
        if let Some(el) = opener.get_value() {
            let _ = el.focus();
        }
    };

    view! {
        <dialog node_ref=dialog class=format!("modal {class}") aria-labelledby=labelled_by
            role=if alert { "alertdialog" } else { "dialog" } aria-modal="true" on:close=on_close>
            {children()}
        </dialog>
    }
}
