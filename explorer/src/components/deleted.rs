//! "Recently deleted": the models of one store that were deleted and can still be restored,
//! newest delete first. Writers restore one with a click; readers see the list only. A split
//! point (`split` feature): it loads when the user opens it.
use leptos::prelude::*;
use sa_shared::{
    config::StoreEntry,
    model::{human_size, ModelSummary},
    web::{http::ApiError, store_api},
};

use crate::{
    dom::short_time,
    state::{is_outage, Ctx},
};

/// Rows per request.
const PAGE: u32 = 50;

/// The view, loaded on first use in a split build.
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn deleted_view(store: StoreEntry, reload: RwSignal<u32>) -> AnyView {
    view! { <Deleted store=store reload=reload /> }.into_any()
}

#[derive(Clone, Debug, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(ApiError),
}

/// One row's restore: idle, under way, or what went wrong.
#[derive(Clone, Debug, PartialEq)]
enum Restore {
    Idle,
    Busy,
    Failed(String),
}

#[component]
fn Deleted(store: StoreEntry, reload: RwSignal<u32>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = StoredValue::new(store);
    let items = RwSignal::new(Vec::<ModelSummary>::new());
    let next = RwSignal::new(None::<String>);
    let load = RwSignal::new(Load::Loading);
    let more_busy = RwSignal::new(false);
    let restoring = RwSignal::new(std::collections::HashMap::<String, Restore>::new());
    let restored = RwSignal::new(None::<(String, String)>);
    let generation = StoredValue::new(0u32);

    let fetch = move |after: Option<String>| {
        let first = after.is_none();
        if first {
            generation.update_value(|g| *g += 1);
            if items.with_untracked(Vec::is_empty) {
                load.set(Load::Loading);
            }
        } else {
            more_busy.set(true);
        }
        let gen = generation.get_value();
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let r = store_api::deleted(ctx.session, &store, after.as_deref(), PAGE).await;
            if generation.try_get_value() != Some(gen) {
                return;
            }
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            more_busy.try_set(false);
            match r {
                Ok(page) => {
                    if first {
                        items.try_set(page.items);
                    } else {
                        items.try_update(|v| v.extend(page.items));
                    }
                    next.try_set(page.next);
                    load.try_set(Load::Ready);
                }
                Err(e) if first => {
                    load.try_set(Load::Failed(e));
                }
                Err(_) => {}
            }
        });
    };
    // First page, and again when the feed reports a delete or restore in this store.
    Effect::new(move |_| {
        reload.track();
        fetch(None);
    });

    let restore = move |m: ModelSummary| {
        restoring.update(|r| {
            r.insert(m.id.clone(), Restore::Busy);
        });
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            // No If-Match: a deleted model has no current version to match.
            let r = store_api::restore(ctx.session, &store, &m.id, &m.etag, None).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            match r {
                Ok(_) => {
                    restoring.try_update(|r| {
                        r.remove(&m.id);
                    });
                    items.try_update(|v| v.retain(|x| x.id != m.id));
                    restored.try_set(Some((m.id.clone(), m.name.clone())));
                    ctx.bump(&store.id);
                }
                Err(e) => {
                    let msg = match e.status {
                        404 => "It can no longer be restored (kept too long, or restored already)."
                            .to_string(),
                        403 => "Your account may not restore models here.".to_string(),
                        _ => format!("Not restored: {e}"),
                    };
                    restoring.try_update(|r| {
                        r.insert(m.id.clone(), Restore::Failed(msg));
                    });
                }
            }
        });
    };

    let name = store.with_value(|s| s.name.clone());
    let heading = format!("Recently deleted in {name}");
    let writer = move || ctx.session.can_write();

    view! {
        <section class="deleted-view" aria-labelledby="deleted-title">
            <h3 id="deleted-title">{heading}</h3>
            <p class="hint">"Deleted models stay here for a while and can be brought back under the same id."</p>
            <p class="ex-notice" role="status" aria-live="polite">
                {move || restored.get().map(|(id, n)| {
                    let open = move |_| ctx.nav.go(&store.with_value(|s| s.id.clone()), Some(id.clone()));
                    view! {
                        <span class="ok">"Restored “"{n}"”. It is back in the list. "</span>
                        <button type="button" class="link open-restored" on:click=open>"Open it"</button>
                    }
                })}
            </p>
            {move || match load.get() {
                Load::Loading => view! { <p class="loading" role="status">"Loading deleted models…"</p> }.into_any(),
                Load::Failed(e) => {
                    let msg = if is_outage(&e) {
                        format!("{name} is unavailable right now. Try again in a moment.")
                    } else {
                        format!("The deleted models could not be loaded: {e}")
                    };
                    view! {
                        <div class="list-error" role="alert">
                            <p>{msg}</p>
                            <button type="button" class="secondary" on:click=move |_| fetch(None)>"Retry"</button>
                        </div>
                    }.into_any()
                }
                Load::Ready if items.with(Vec::is_empty) => view! {
                    <div class="empty-state"><p><strong>"Nothing was deleted here recently."</strong></p></div>
                }.into_any(),
                Load::Ready => ().into_any(),
            }}
            <ul class="deleted-list" aria-label="Deleted models" hidden=move || items.with(Vec::is_empty)>
                <For each=move || items.get() key=|m| (m.id.clone(), m.etag.clone()) children=move |m| {
                    let id = StoredValue::new(m.id.clone());
                    let state = move || restoring.with(|r| r.get(&id.get_value()).cloned()).unwrap_or(Restore::Idle);
                    let label = format!("Restore {}", m.name);
                    let row = m.clone();
                    view! {
                        <li class="deleted-row" data-id=m.id.clone()>
                            <span class="row-name">{m.name.clone()}</span>
                            <span class="row-meta">"deleted "{short_time(&m.updated)}" · "{human_size(m.size)}</span>
                            {move || writer().then(|| {
                                let row = row.clone();
                                view! {
                                    <button type="button" class="secondary restore" aria-label=label.clone()
                                        disabled=move || state() == Restore::Busy
                                        on:click=move |_| restore(row.clone())>
                                        {move || if state() == Restore::Busy { "Restoring…" } else { "Restore" }}
                                    </button>
                                }
                            })}
                            {move || match state() {
                                Restore::Failed(msg) => Some(view! { <span class="error" role="alert">{msg}</span> }),
                                _ => None,
                            }}
                        </li>
                    }
                } />
            </ul>
            {move || next.get().map(|n| view! {
                <button type="button" class="secondary more-deleted" disabled=move || more_busy.get()
                    on:click=move |_| fetch(Some(n.clone()))>"Show more"</button>
            })}
        </section>
    }
}
