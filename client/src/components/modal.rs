//! A modal `<dialog>`: the browser makes the rest of the page inert (so focus stays inside),
//! Esc closes it, and focus goes back to what had it before.
use leptos::{html, prelude::*};
use wasm_bindgen::JsCast;

/// The open/close behaviour every modal here shares, with `open` as the one source of truth:
/// opening remembers what had focus, Esc is turned into `open = false` (rather than left to
/// the browser, whose asynchronous `close` event would race a quick reopen), closing gives
/// focus back, and Tab stays inside.
#[derive(Clone, Copy)]
pub struct ModalControl {
    dialog: NodeRef<html::Dialog>,
    open: RwSignal<bool>,
    opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
}

impl ModalControl {
    pub fn new(dialog: NodeRef<html::Dialog>, open: RwSignal<bool>) -> Self {
        let c = ModalControl {
            dialog,
            open,
            opener: StoredValue::new_local(None),
        };
        Effect::new(move |_| {
            let Some(d) = dialog.get() else { return };
            if open.get() {
                if !d.open() {
                    let active = document()
                        .active_element()
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                    c.opener.set_value(active);
                    let _ = d.show_modal();
                }
            } else if d.open() {
                d.close();
                c.return_focus();
            }
        });
        c
    }

    /// Closing without giving focus back (the next page takes it).
    pub fn forget_opener(&self) {
        self.opener.set_value(None);
    }

    fn return_focus(&self) {
        if let Some(el) = self.opener.try_update_value(|o| o.take()).flatten() {
            let _ = el.focus();
        }
    }

    /// For `on:cancel` (Esc).
    pub fn on_cancel(&self, ev: leptos::ev::Event) {
        ev.prevent_default();
        self.open.set(false);
    }

    /// For `on:close`, in case something else closed the dialog. The event is queued, so it can
    /// arrive after a quick reopen: then the dialog is open again and the event is stale.
    pub fn on_close(&self) {
        if self.dialog.get_untracked().is_some_and(|d| d.open()) {
            return;
        }
        if self.open.get_untracked() {
            self.open.set(false);
        }
        self.return_focus();
    }

    /// For `on:keydown`.
    pub fn on_keydown(&self, ev: &web_sys::KeyboardEvent) {
        if let Some(d) = self.dialog.get_untracked() {
            trap_tab(&d, ev);
        }
    }
}

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
    let control = ModalControl::new(dialog, open);
    view! {
        <dialog node_ref=dialog class=format!("modal {class}") aria-labelledby=labelled_by
            role=if alert { "alertdialog" } else { "dialog" } aria-modal="true"
            on:cancel=move |ev| control.on_cancel(ev) on:close=move |_| control.on_close()
            on:keydown=move |ev| control.on_keydown(&ev)>
            {children()}
        </dialog>
    }
}

const FOCUSABLE: &str =
    "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/// Keeps Tab and Shift+Tab inside `dialog`: a modal `<dialog>` makes the page behind it inert,
/// but Chromium still lets focus leave the document from the last element.
pub fn trap_tab(dialog: &web_sys::Element, ev: &web_sys::KeyboardEvent) {
    if ev.key() != "Tab" {
        return;
    }
    let Ok(list) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        // Hidden elements (display: none, or inside a closed part) can't take focus.
        .filter(|e| e.get_client_rects().length() > 0)
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let is = |e: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
    };
    let inside = active
        .as_ref()
        .is_some_and(|a| dialog.contains(Some(a)) && a != dialog);
    if ev.shift_key() && (is(first) || !inside) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (is(last) || !inside) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
