//! One tab per configured store (WAI-ARIA tabs: roving tabindex, arrow keys, automatic
//! activation), each showing its backend and health.
use std::time::Duration;

use leptos::{ev, html, prelude::*};
use sa_shared::web::store_api;
use wasm_bindgen::JsCast;

use crate::state::{is_outage, Ctx, Health, StoreSlot};

/// How often the tabs re-check their stores, so an outage (and its end) shows without a click.
const HEALTH_EVERY: Duration = Duration::from_secs(10);

#[component]
pub fn Tabs(active: Memo<Option<String>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let slots = ctx.stores.get_value();

    let check_all = move || {
        for slot in ctx.stores.get_value() {
            check(ctx, slot);
        }
    };
    // Now, and again when the user signs in (the backend name needs a token).
    Effect::new(move |_| {
        ctx.session.is_signed_in();
        check_all();
    });
    // Only while on screen: the client keeps the explorer in a closed dialog between uses.
    let tablist = NodeRef::<html::Div>::new();
    let check_if_shown = move || {
        if let Some(Some(el)) = tablist.try_get_untracked() {
            if el.offset_parent().is_some() {
                check_all();
            }
        }
    };
    if let Ok(h) = set_interval_with_handle(check_if_shown, HEALTH_EVERY) {
        on_cleanup(move || h.clear());
    }

    let ids: Vec<String> = slots.iter().map(|s| s.entry.id.clone()).collect();
    let on_keydown = move |e: ev::KeyboardEvent| {
        let Some(cur) = active.get_untracked() else {
            return;
        };
        let Some(i) = ids.iter().position(|id| *id == cur) else {
            return;
        };
        let n = ids.len();
        let next = match e.key().as_str() {
            "ArrowRight" => (i + 1) % n,
            "ArrowLeft" => (i + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        e.prevent_default();
        let id = ids[next].clone();
        select(ctx, &id);
        focus_tab(&id);
    };

    view! {
        <div role="tablist" aria-label="Storage systems" class="tabs" node_ref=tablist on:keydown=on_keydown>
            {slots.into_iter().map(|slot| {
                let id = slot.entry.id.clone();
                let selected = {
                    let id = id.clone();
                    move || active.get().as_deref() == Some(id.as_str())
                };
                let selected2 = selected.clone();
                let status = slot.status;
                let click_id = id.clone();
                view! {
                    <button type="button" role="tab" class="tab" id=format!("tab-{id}")
                        aria-controls=format!("panel-{id}")
                        aria-selected=move || selected().to_string()
                        tabindex=move || if selected2() { "0" } else { "-1" }
                        data-store=id.clone()
                        data-health=move || match status.get().health { Health::Up => "up", Health::Down(_) => "down", Health::Checking => "checking" }
                        on:click=move |_| select(ctx, &click_id)>
                        <span class="tab-name">{slot.entry.name.clone()}</span>
                        <span class="tab-status">
                            <span class="dot" aria-hidden="true"></span>
                            {move || {
                                let s = status.get();
                                let backend = s.info.map(|i| i.backend).unwrap_or_default();
                                match s.health {
                                    Health::Checking => "checking…".to_string(),
                                    Health::Up if backend.is_empty() => "available".to_string(),
                                    Health::Up => format!("{backend} · available"),
                                    Health::Down(_) => "unavailable".to_string(),
                                }
                            }}
                        </span>
                    </button>
                }
            }).collect_view()}
        </div>
    }
}

fn select(ctx: Ctx, id: &str) {
    ctx.creating.set(false);
    if ctx.nav.store.get_untracked().as_deref() != Some(id)
        || ctx.nav.model.get_untracked().is_some()
    {
        ctx.nav.go(id, None);
    }
    if let Some(slot) = ctx.slot(id) {
        check(ctx, slot);
    }
}

fn focus_tab(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(&format!("tab-{id}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Asks the store whether it reaches its backend (`/readyz`) and which backend it is
/// (`/api/info`, once).
fn check(ctx: Ctx, slot: StoreSlot) {
    leptos::task::spawn_local(async move {
        let ready = store_api::ready(ctx.session, &slot.entry).await;
        let health = match &ready {
            Ok(()) => Health::Up,
            Err(e) if is_outage(e) => Health::Down(e.message.clone()),
            Err(e) => Health::Down(format!("{} ({})", e.message, e.status)),
        };
        let need_info = health == Health::Up
            && untrack(|| ctx.session.is_signed_in())
            && slot
                .status
                .try_with_untracked(|s| s.info.is_none())
                .unwrap_or(false);
        slot.status.try_update(|s| {
            if s.health != health {
                s.health = health
            }
        });
        if need_info {
            if let Ok(info) = store_api::info(ctx.session, &slot.entry).await {
                slot.status.try_update(|s| s.info = Some(info));
            }
        }
    });
}
