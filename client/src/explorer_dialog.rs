//! The explorer as a modal pop-over: a `<dialog>` that traps focus, closes on Esc and gives
//! focus back to what had it. Picking a model closes it and opens the model in the client.
//!
//! The whole explorer component is a lazy chunk of the split build (`split` feature, see
//! xtask/src/split.rs): it is fetched at the first opening, not with the first page. A chunk
//! that can't be fetched (offline, or sa was redeployed under an open tab) is answered by the
//! reload banner of index.html; the rest of the client keeps running.
use leptos::{ev, html, prelude::*};
use leptos_router::hooks::use_navigate;
use sa_shared::web::{encode, session::Session};

use crate::components::modal::ModalControl;

#[component]
pub fn ExplorerDialog(session: Session, open: RwSignal<bool>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let control = ModalControl::new(dialog, open);
    // The explorer is built at first opening (not with every client page) and then kept, so
    // reopening shows the same tab and position.
    let opened_once = RwSignal::new(false);
    Effect::new(move |_| {
        if open.get() {
            opened_once.set(true);
        }
    });
    let picked = RwSignal::new(None::<(String, String)>);
    let navigate = use_navigate();

    // The explorer's callback must be Send; navigation happens here, on the UI side.
    Effect::new(move |_| {
        if let Some((store, id)) = picked.get() {
            picked.set(None);
            // The model page takes focus; don't pull it back to the opener.
            control.forget_opener();
            open.set(false);
            navigate(
                &format!("/models/{}/{}", encode(&store), encode(&id)),
                Default::default(),
            );
        }
    });
    let on_pick = Callback::new(move |(store, id): (String, String)| picked.set(Some((store, id))));

    // Ctrl+K (or Cmd+K) opens the explorer from anywhere in the client.
    let _ = window_event_listener(ev::keydown, move |e| {
        if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
            e.prevent_default();
            open.set(true);
        }
    });

    view! {
        <dialog node_ref=dialog class="explorer-dialog" aria-labelledby="explorer-dialog-title" aria-modal="true"
            on:cancel=move |ev| control.on_cancel(ev) on:close=move |_| control.on_close()
            on:keydown=move |ev| control.on_keydown(&ev)>
            <div class="dialog-header">
                <h2 id="explorer-dialog-title">"Explorer"</h2>
                <button type="button" class="icon" id="close-explorer" aria-label="Close explorer" on:click=move |_| open.set(false)>"×"</button>
            </div>
            {move || opened_once.get().then(|| view! {
                <Suspense fallback=|| view! { <p class="loading" id="explorer-loading">"Loading the explorer…"</p> }>
                    {Suspend::new(explorer_pop_over(session, on_pick))}
                </Suspense>
            })}
        </dialog>
    }
}

/// The explorer component, in its own chunk when split. The view is built here, inside the
/// chunk, so none of the explorer's code stays in the main module.
#[cfg_attr(feature = "split", leptos::lazy)]
async fn explorer_pop_over(session: Session, on_pick: Callback<(String, String)>) -> AnyView {
    // Its stylesheets are not in the client's first load either (sa_shared::web::stylesheet).
    sa_shared::web::stylesheets(&["explorer", "editor"]).await;
    view! { <sa_explorer::Explorer session=session on_pick=on_pick compact=true /> }.into_any()
}
