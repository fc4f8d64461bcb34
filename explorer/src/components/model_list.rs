//! The models of one store: the summary view, paged by cursor as the user scrolls, searched on
//! the server as the user types. Only the rows in view are in the DOM, so 10,000 models scroll
//! as smoothly as 10.
use std::{collections::HashMap, time::Duration};

use leptos::leptos_dom::helpers::TimeoutHandle;
use leptos::{ev, html, prelude::*};
use sa_shared::{
    model::{human_size, ModelSummary},
    web::{http::ApiError, mark, store_api},
};

use crate::{
    components::{
        deleted::deleted_view,
        live::{follow_list, ListState, Mark},
    },
    dom::short_time,
    state::{is_outage, Ctx, StoreSlot},
};

/// Rows per request.
const PAGE: u32 = 50;
/// Height of one row in CSS pixels; `.ex-row` in explorer.css uses the same.
const ROW_H: usize = 56;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 8;
const DEBOUNCE: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(ApiError),
}

#[component]
pub fn ModelList(tab: StoreSlot) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = tab.entry.clone();
    let store_id = StoredValue::new(store.id.clone());
    let store_entry = StoredValue::new(store.clone());
    let label = store.name.clone();

    let items = RwSignal::new(Vec::<ModelSummary>::new());
    let next = RwSignal::new(None::<String>);
    let total = RwSignal::new(None::<u64>);
    let load = RwSignal::new(Load::Loading);
    let more_loading = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let generation = StoredValue::new(0u32);
    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let active = RwSignal::new(0usize);
    let scroll_top = RwSignal::new(0usize);
    let viewport_h = RwSignal::new(600usize);
    let viewport = NodeRef::<html::Div>::new();
    let marks = RwSignal::new(HashMap::<String, Mark>::new());
    let note = RwSignal::new(String::new());
    let deleted_rev = RwSignal::new(0u32);
    let show_deleted = RwSignal::new(false);
    // Where the feed stood just before the first page was read: the feed starts from there.
    let feed_from = StoredValue::new(None::<String>);

    // The list follows the store's feed while it is on screen; the task and its stream end
    // with the list (tab switch, sign-out). It starts once the first page is shown, so the
    // feed's chunk is fetched after what the list needs, not alongside it.
    {
        let owner = Owner::current().expect("the list runs inside a reactive owner");
        let list = ListState {
            items,
            total,
            next,
            query,
            active,
            marks,
            note,
            deleted_rev,
            revision: tab.revision,
        };
        let mut store = Some(store.clone());
        Effect::new(move |_| {
            if load.get() != Load::Ready {
                return;
            }
            // The first page only: later loads (a search, a reset) neither mark nor follow.
            let Some(store) = store.take() else {
                return;
            };
            mark("sa:list-rendered");
            let after = feed_from.get_value();
            owner.with(|| {
                leptos::task::spawn_local_scoped_with_cancellation(follow_list(
                    ctx, store, list, after,
                ));
            });
        });
    }

    let fetch = {
        let store = store.clone();
        move |reset: bool| {
            let after = if reset {
                generation.update_value(|g| *g += 1);
                None
            } else {
                if more_loading.get_untracked() || load.get_untracked() != Load::Ready {
                    return;
                }
                match next.get_untracked() {
                    Some(n) => Some(n),
                    None => return,
                }
            };
            let gen = generation.get_value();
            if reset {
                // A page still on its way belongs to the old query; its answer will be dropped.
                more_loading.set(false);
                next.set(None);
                if items.with_untracked(Vec::is_empty) {
                    load.set(Load::Loading);
                }
            } else {
                more_loading.set(true);
            }
            let q = query.get_untracked();
            let store = store.clone();
            leptos::task::spawn_local(async move {
                let r = store_api::list(ctx.session, &store, after.as_deref(), &q, PAGE).await;
                // A newer search or tab switch made this answer moot.
                if generation.try_get_value() != Some(gen) {
                    return;
                }
                ctx.observe(&store.id, r.as_ref().map(|_| ()));
                match r {
                    Ok(store_api::Listed { page, feed }) => {
                        if feed.is_some() {
                            feed_from.try_set_value(feed);
                        }
                        if reset {
                            // Keep the open model highlighted when it is on the first page.
                            let open = ctx.nav.model.try_get_untracked().flatten();
                            let at = open
                                .and_then(|id| page.items.iter().position(|m| m.id == id))
                                .unwrap_or(0);
                            items.try_set(page.items);
                            active.try_set(at);
                        } else {
                            items.try_update(|v| v.extend(page.items));
                        }
                        next.try_set(page.next);
                        total.try_set(Some(page.total));
                        load.try_set(Load::Ready);
                    }
                    Err(e) if reset => {
                        load.try_set(Load::Failed(e));
                    }
                    Err(_) => {}
                }
                more_loading.try_set(false);
            });
        }
    };
    let fetch = StoredValue::new(fetch);

    // First page, and again after a new search or a write to this store.
    Effect::new(move |_| {
        query.track();
        tab.revision.track();
        fetch.with_value(|f| f(true));
    });

    let on_input = move |e: ev::Event| {
        let v = event_target_value(&e);
        typed.set(v.clone());
        if let Some(h) = debounce.get_value() {
            h.clear();
        }
        let h = set_timeout_with_handle(
            move || {
                query.try_set(v);
            },
            DEBOUNCE,
        )
        .ok();
        debounce.set_value(h);
    };
    on_cleanup(move || {
        if let Some(h) = debounce.try_get_value().flatten() {
            h.clear();
        }
    });

    // Also runs from an animation frame, after the list may have gone (tab switch): hence try_.
    let measure = move || {
        if let Some(Some(el)) = viewport.try_get_untracked() {
            viewport_h.try_set(el.client_height().max(0) as usize);
        }
    };
    // The viewport grows with its rows up to a max-height, so measure again once they render.
    Effect::new(move |_| {
        items.with(Vec::len);
        if viewport.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let resize = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    // The rows in view, and paging on when the user nears the end of what is loaded.
    let range = Memo::new(move |_| {
        let len = items.with(Vec::len);
        let first = (scroll_top.get() / ROW_H).saturating_sub(OVERSCAN);
        let last = ((scroll_top.get() + viewport_h.get()).div_ceil(ROW_H) + OVERSCAN).min(len);
        (first.min(last), last)
    });
    Effect::new(move |_| {
        let (_, last) = range.get();
        let len = items.with(Vec::len);
        if len > 0 && last + PAGE as usize / 2 >= len && next.with(Option::is_some) {
            fetch.with_value(|f| f(false));
        }
    });
    let visible = move || {
        let (first, last) = range.get();
        items.with(|v| {
            v[first..last]
                .iter()
                .cloned()
                .enumerate()
                .map(|(k, m)| (first + k, m))
                .collect::<Vec<_>>()
        })
    };

    let open = move |i: usize| {
        let Some(m) = items.with_untracked(|v| v.get(i).cloned()) else {
            return;
        };
        active.set(i);
        let store = store_id.get_value();
        match ctx.on_pick {
            Some(pick) => pick.run((store, m.id)),
            None => {
                ctx.creating.set(false);
                ctx.nav.go(&store, Some(m.id));
            }
        }
    };

    let scroll_into_view = move |i: usize| {
        let Some(el) = viewport.get_untracked() else {
            return;
        };
        let top = (i * ROW_H) as i32;
        let cur = el.scroll_top();
        let h = el.client_height();
        if top < cur {
            el.set_scroll_top(top);
        } else if top + ROW_H as i32 > cur + h {
            el.set_scroll_top(top + ROW_H as i32 - h);
        }
    };
    let on_list_key = move |e: ev::KeyboardEvent| {
        let len = items.with_untracked(Vec::len);
        if len == 0 {
            return;
        }
        let page = (viewport_h.get_untracked() / ROW_H).max(1);
        let cur = active.get_untracked().min(len - 1);
        let to = match e.key().as_str() {
            "ArrowDown" => (cur + 1).min(len - 1),
            "ArrowUp" => cur.saturating_sub(1),
            "PageDown" => (cur + page).min(len - 1),
            "PageUp" => cur.saturating_sub(page),
            "Home" => 0,
            "End" => len - 1,
            "Enter" | " " => {
                e.prevent_default();
                open(cur);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        active.set(to);
        scroll_into_view(to);
    };
    // From the search box, ArrowDown goes into the list and Enter opens the first match.
    let on_search_key = move |e: ev::KeyboardEvent| match e.key().as_str() {
        "ArrowDown" => {
            e.prevent_default();
            if let Some(el) = viewport.get_untracked() {
                let _ = el.focus();
            }
        }
        "Enter" => {
            e.prevent_default();
            if let Some(h) = debounce.get_value() {
                h.clear();
            }
            if query.get_untracked() != typed.get_untracked() {
                query.set(typed.get_untracked());
            } else {
                open(0);
            }
        }
        "Escape" if !typed.get_untracked().is_empty() => {
            e.stop_propagation();
            typed.set(String::new());
            query.set(String::new());
        }
        _ => {}
    };

    let opt_id = move |i: usize| format!("opt-{}-{i}", store_id.get_value());
    let list_label = format!("Models in {label}");
    let search_label = format!("Search models in {label}");
    let current = ctx.nav.model;
    let name_for_status = label.clone();

    view! {
        <div class="ex-list">
            <div class="list-toolbar" role="search">
                <input type="search" class="search" node_ref=ctx.search
                    aria-label=search_label placeholder="Search  ( / )"
                    aria-keyshortcuts="/"
                    prop:value=move || typed.get()
                    on:input=on_input on:keydown=on_search_key />
                {move || ctx.session.can_write().then(|| view! {
                    <button type="button" class="new-model" on:click=move |_| { ctx.creating.set(true); ctx.nav.go(&store_id.get_value(), None); }>
                        "New model"
                    </button>
                })}
            </div>
            <div class="list-head">
                <p class="list-status" role="status" aria-live="polite" hidden=move || show_deleted.get()>
                    {move || match (load.get(), total.get()) {
                        (Load::Ready, Some(t)) => {
                            let shown = thousands(items.with(Vec::len) as u64);
                            let q = query.get();
                            match (t, q.is_empty()) {
                                (0, _) => String::new(),
                                (_, true) => format!("{shown} of {} models", thousands(t)),
                                (_, false) => format!("{shown} of {} models match “{q}”", thousands(t)),
                            }
                        }
                        (Load::Loading, _) => "Loading models…".to_string(),
                        _ => String::new(),
                    }}
                </p>
                <button type="button" class="link show-deleted"
                    aria-pressed=move || show_deleted.get().to_string()
                    aria-controls=format!("deleted-{}", store_id.get_value())
                    on:click=move |_| show_deleted.update(|s| *s = !*s)>
                    "Recently deleted"
                </button>
            </div>
            <div class="deleted-slot" id=format!("deleted-{}", store_id.get_value())>
                {move || show_deleted.get().then(|| {
                    let store = store_entry.get_value();
                    view! {
                        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading deleted models…"</p> }>
                            {Suspend::new(deleted_view(store.clone(), deleted_rev))}
                        </Suspense>
                    }
                })}
            </div>
            <div class="live-list" hidden=move || show_deleted.get()>
            <p class="live-note visually-hidden" role="status" aria-live="polite">{move || note.get()}</p>
            {move || match load.get() {
                Load::Failed(e) => view! { <ListError error=e store=name_for_status.clone() on_retry=Callback::new(move |_| fetch.with_value(|f| f(true))) /> }.into_any(),
                Load::Ready if items.with(Vec::is_empty) => view! { <ListEmpty query=query.get() on_clear=Callback::new(move |_| { typed.set(String::new()); query.set(String::new()); }) /> }.into_any(),
                _ => ().into_any(),
            }}
            <div class="list-viewport" node_ref=viewport role="listbox" tabindex="0"
                aria-label=list_label
                hidden=move || matches!(load.get(), Load::Failed(_)) || items.with(Vec::is_empty)
                aria-activedescendant=move || opt_id(active.get())
                on:scroll=move |e| {
                    let el = event_target::<web_sys::Element>(&e);
                    scroll_top.set(el.scroll_top().max(0) as usize);
                }
                on:keydown=on_list_key>
                <div class="list-spacer" style:height=move || format!("{}px", items.with(Vec::len) * ROW_H)>
                    // Keyed on position and version, so a row whose model changed is drawn anew.
                    <For each=visible key=|(i, m)| (*i, m.id.clone(), m.updated.clone()) children=move |(i, m)| {
                        let id = m.id.clone();
                        let mark_id = StoredValue::new(m.id.clone());
                        let mark = move || mark_id.with_value(|id| marks.with(|k| k.get(id).copied()));
                        view! {
                            <div role="option" class="ex-row" id=opt_id(i)
                                style:top=format!("{}px", i * ROW_H)
                                aria-selected=move || (active.get() == i).to_string()
                                aria-posinset=i + 1
                                aria-setsize=move || total.get().unwrap_or(0).to_string()
                                class:current=move || current.get().as_deref() == Some(id.as_str())
                                class:live-new=move || mark() == Some(Mark::New)
                                class:live-changed=move || mark() == Some(Mark::Changed)
                                class:live-deleted=move || mark() == Some(Mark::Deleted)
                                data-id=m.id.clone()
                                on:click=move |_| open(i)>
                                <span class="row-name">{m.name.clone()}</span>
                                <span class="row-meta">{short_time(&m.updated)}" · "{human_size(m.size)}</span>
                            </div>
                        }
                    } />
                </div>
            </div>
            <Show when=move || more_loading.get()>
                <p class="loading more" role="status">"Loading more…"</p>
            </Show>
            </div>
        </div>
    }
}

#[component]
fn ListError(error: ApiError, store: String, on_retry: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (title, next_step) = match error.status {
        _ if is_outage(&error) => (
            format!("{store} is unavailable right now."),
            "The other tabs still work. Try again in a moment.".to_string(),
        ),
        401 => (
            "Your session has expired.".to_string(),
            "Sign in again to continue.".to_string(),
        ),
        403 => (
            format!("Your account may not read {store}."),
            "Ask an admin for the reader role.".to_string(),
        ),
        _ => (
            format!("The models in {store} could not be loaded."),
            "Try again; if it keeps failing, tell an admin what it says below.".to_string(),
        ),
    };
    let login = (error.status == 401).then(|| {
        ctx.session
            .login_url(&window().location().href().unwrap_or_default())
    });
    view! {
        <div class="list-error" role="alert">
            <p><strong>{title}</strong>" "{next_step}</p>
            <p class="detail">{error.to_string()}</p>
            {login.map(|href| view! { <a class="button" href=href>"Sign in"</a> })}
            <button type="button" class="secondary" on:click=move |_| on_retry.run(())>"Retry"</button>
        </div>
    }
}

#[component]
fn ListEmpty(query: String, on_clear: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    if query.is_empty() {
        let hint = if untrack(|| ctx.session.can_write()) {
            "Create one with “New model”, or copy one here from another store."
        } else {
            "Ask someone with the writer role to add one."
        };
        view! { <div class="empty-state"><p><strong>"No models here yet."</strong>" "{hint}</p></div> }.into_any()
    } else {
        view! {
            <div class="empty-state">
                <p><strong>"No models match “"{query}"”."</strong>" Search looks at names; try fewer letters."</p>
                <button type="button" class="secondary" on:click=move |_| on_clear.run(())>"Clear search"</button>
            </div>
        }
        .into_any()
    }
}

/// `10000` as `10,000`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
