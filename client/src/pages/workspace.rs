//! `/`: the user's models across every configured store, most recently changed first. The list
//! follows each store's change feed: new, changed and deleted models show without a reload,
//! briefly highlighted; a feed `reset` reloads the list.
use std::time::Duration;

use futures::future::join_all;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};
use sa_shared::{
    config::StoreEntry,
    history::{Change, Op},
    model::{human_size, ModelSummary},
    web::{
        encode,
        feed::{self, FeedEvent},
        http::ApiError,
        lowercase,
        session::Session,
        store_api,
    },
};

use crate::components::{explain, mark, relative_time, Doing, ErrorNotice, Loading, RequireUser};

/// The most models read per store for this page: enough to find one by typing part of its name,
/// bounded so a huge store can't stall the page (the explorer pages through everything).
const MAX_PER_STORE: usize = 1000;
/// How long a row that changed live stays highlighted.
const FRESH_FOR: Duration = Duration::from_secs(4);

#[derive(Clone)]
struct StoreModels {
    store: StoreEntry,
    result: Result<(Vec<ModelSummary>, u64), ApiError>,
    /// The feed's cursor from just before the first page: the feed starts from there.
    feed: Option<String>,
}

async fn load_store(session: Session, store: StoreEntry) -> StoreModels {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    let mut feed = None;
    let result = loop {
        let want = (MAX_PER_STORE - items.len()) as u32;
        match store_api::list(session, &store, after.as_deref(), "", want).await {
            Ok(store_api::Listed { page, feed: cursor }) => {
                feed = feed.or(cursor);
                items.extend(page.items);
                match page.next {
                    Some(next) if items.len() < MAX_PER_STORE => after = Some(next),
                    _ => break Ok((std::mem::take(&mut items), page.total)),
                }
            }
            Err(e) => break Err(e),
        }
    };
    StoreModels {
        store,
        result,
        feed,
    }
}

#[component]
pub fn WorkspacePage(session: Session) -> impl IntoView {
    view! {
        <RequireUser session=session>
            <Workspace session=session />
        </RequireUser>
    }
}

#[component]
fn Workspace(session: Session) -> impl IntoView {
    let query = use_query_map();
    let welcome = move || query.read().get_str("welcome").is_some();
    let deleted = move || query.read().get("deleted");
    let stores = session.config().stores;
    let data = LocalResource::new(move || {
        let stores = stores.clone();
        async move { join_all(stores.into_iter().map(|s| load_store(session, s))).await }
    });
    let filter = RwSignal::new(String::new());

    view! {
        <Show when=welcome>
            <div class="notice ok" role="status">
                "Your account is ready. You can read every model"
                {move || if session.can_write() { " and create your own." } else { "; an admin grants the writer role for creating and editing." }}
            </div>
        </Show>
        {move || deleted().map(|name| view! { <div class="notice ok" role="status" id="deleted-notice">{format!("Deleted “{name}”.")}</div> })}
        <section class="card">
            <div class="section-head">
                <h1>"Your models"</h1>
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| data.refetch()>"Refresh"</button>
                    <A href="/new" {..} class="button" id="new-model">"New model"</A>
                </div>
            </div>
            <Suspense fallback=|| view! { <Loading what="your models" /> }>
                {move || Suspend::new(async move {
                    view! { <ModelList session=session all=data.await filter=filter reload=Callback::new(move |_| data.refetch()) /> }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ModelList(
    session: Session,
    all: Vec<StoreModels>,
    filter: RwSignal<String>,
    reload: Callback<()>,
) -> impl IntoView {
    let mut rows: Vec<(StoreEntry, ModelSummary)> = Vec::new();
    let mut problems = Vec::new();
    let mut total = 0u64;
    for s in &all {
        match &s.result {
            Ok((items, t)) => {
                total += t;
                rows.extend(items.iter().cloned().map(|m| (s.store.clone(), m)));
            }
            Err(e) => problems.push(explain(e, Doing::Reading, Some(&s.store.name))),
        }
    }
    // RFC 3339 UTC strings sort by time.
    rows.sort_by(|a, b| b.1.updated.cmp(&a.1.updated));
    let shown_count = rows.len();
    let rows = RwSignal::new(rows);
    // Rows that changed live: (store id, model id) → whether it was a delete.
    let fresh = RwSignal::new(Vec::<(String, String, bool)>::new());
    let stores = all
        .iter()
        .map(|s| (s.store.clone(), s.feed.clone()))
        .collect();
    let owner = Owner::current().expect("the list runs inside a reactive owner");
    // Gone once the list is: a feed chunk that arrives after that starts nothing.
    let alive = StoredValue::new(());
    let mut following = Some(Following {
        owner,
        alive,
        session,
        stores,
        rows,
        fresh,
        reload,
    });
    // Once the list is on screen: the mark the benchmarks time, then the feed, whose chunk is
    // fetched only now, so it does not compete with what the list needs.
    Effect::new(move |_| {
        mark("sa:list-rendered");
        if let Some(f) = following.take() {
            leptos::task::spawn_local(follow(f));
        }
    });
    let is_fresh = move |store: &str, id: &str| {
        fresh.with(|f| {
            f.iter()
                .find(|(s, i, _)| s == store && i == id)
                .map(|(_, _, d)| *d)
        })
    };
    let all_failed = !problems.is_empty() && problems.len() == all.len();
    let is_empty = shown_count == 0 && problems.is_empty();

    let visible = Memo::new(move |_| {
        let f = lowercase(filter.get().trim());
        rows.with(|rows| {
            rows.iter()
                .filter(|(_, m)| {
                    f.is_empty() || lowercase(&m.name).contains(&f) || m.id.starts_with(&f)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    view! {
        {problems.into_iter().map(|p| view! { <ErrorNotice message=p /> }).collect_view()}
        {if is_empty {
            view! { <EmptyState session=session /> }.into_any()
        } else if all_failed {
            ().into_any()
        } else {
            view! {
                <div class="list-tools">
                    <label for="model-filter" class="visually-hidden">"Filter models by name"</label>
                    <input id="model-filter" type="search" placeholder="Filter by name" autocomplete="off"
                        prop:value=move || filter.get() on:input=move |ev| filter.set(event_target_value(&ev)) />
                    <span class="count" aria-live="polite">
                        {move || {
                            let n = visible.with(|v| v.len());
                            if (n as u64) < total && n == shown_count {
                                format!("{n} most recent of {total} models")
                            } else {
                                format!("{n} {}", if n == 1 { "model" } else { "models" })
                            }
                        }}
                    </span>
                </div>
                <ul class="workspace-list" id="model-list">
                    <For each=move || visible.get()
                        key=|(store, model)| (store.id.clone(), model.id.clone(), model.updated.clone())
                        children=move |(store, model)| {
                            let (s, i) = (store.id.clone(), model.id.clone());
                            let live = Signal::derive(move || is_fresh(&s, &i));
                            view! { <ModelRow store=store model=model live=live /> }
                        } />
                </ul>
                <Show when=move || visible.with(|v| v.is_empty())>
                    <p class="empty-state">"No model name contains “" {move || filter.get()} "”. "
                        <button type="button" class="link" on:click=move |_| filter.set(String::new())>"Clear the filter"</button>
                    </p>
                </Show>
            }.into_any()
        }}
    }
}

#[component]
fn ModelRow(
    store: StoreEntry,
    model: ModelSummary,
    /// `Some(deleted)` while the row shows a live change.
    live: Signal<Option<bool>>,
) -> impl IntoView {
    let href = format!("/models/{}/{}", encode(&store.id), encode(&model.id));
    view! {
        <li class="workspace-row" data-id=model.id.clone()
            class:row-fresh=move || live.get() == Some(false)
            class:row-deleted=move || live.get() == Some(true)>
            <A href={href} {..} class="workspace-link">
                <span class="workspace-name">{model.name.clone()}</span>
            </A>
            <span class=format!("badge store-{}", store.id)>{store.name.clone()}</span>
            <time datetime=model.updated.clone() title=model.updated.clone()>{relative_time(&model.updated)}</time>
            <span class="size">{human_size(model.size)}</span>
            {move || live.get().map(|deleted| view! {
                <span class="visually-hidden">{if deleted { " (deleted just now)" } else { " (changed just now)" }}</span>
            })}
        </li>
    }
}

#[component]
fn EmptyState(session: Session) -> impl IntoView {
    view! {
        <div class="empty-state big" id="empty-models">
            <p class="empty-title">"No models yet."</p>
            {move || if session.can_write() {
                view! { <p><A href="/new" {..} class="button">"Create your first model"</A></p> }.into_any()
            } else {
                view! { <p>"Your account can read models but not create them. Ask an admin to give you the writer role."</p> }.into_any()
            }}
        </div>
    }
}

/// What [`follow`] needs from the list.
struct Following {
    owner: Owner,
    alive: StoredValue<()>,
    session: Session,
    /// Each store, and the feed cursor its list came with.
    stores: Vec<(StoreEntry, Option<String>)>,
    rows: RwSignal<Vec<(StoreEntry, ModelSummary)>>,
    /// Rows that changed live: (store id, model id) → whether it was a delete.
    fresh: RwSignal<Vec<(String, String, bool)>>,
    reload: Callback<()>,
}

/// Follows each store's change feed for as long as the list lives. A split point (`split`
/// feature): the feed's code, and what a change does to the list, come after the list is on
/// screen, not with the first load.
#[cfg_attr(feature = "split", leptos::lazy)]
async fn follow(f: Following) {
    if f.alive.try_get_value().is_none() {
        return;
    }
    let Following {
        session,
        rows,
        fresh,
        reload,
        ..
    } = f;
    // The list's owner, so each feed closes when the list goes.
    f.owner.with(|| {
        for (store, after) in f.stores {
            let s = store.clone();
            feed::watch(session, store, after, move |ev| match ev {
                FeedEvent::Change(c) => on_change(session, rows, fresh, s.clone(), c),
                FeedEvent::Reset => reload.run(()),
            });
        }
    });
}

/// A model changed in `store`: its row goes to the top with what the store now holds, or
/// is marked deleted and then leaves.
fn on_change(
    session: Session,
    rows: RwSignal<Vec<(StoreEntry, ModelSummary)>>,
    fresh: RwSignal<Vec<(String, String, bool)>>,
    store: StoreEntry,
    c: Change,
) {
    if c.op == Op::Deleted {
        flash(rows, fresh, store.id.clone(), c.id.clone(), true);
        return;
    }
    // Already shown at that version: a feed that starts from the list's cursor may repeat a
    // write the list already has.
    let etag = c.etag.trim_matches('"');
    if rows.with_untracked(|r| {
        r.iter()
            .any(|(s, m)| s.id == store.id && m.id == c.id && m.etag == etag)
    }) {
        return;
    }
    leptos::task::spawn_local(async move {
        let Ok(got) = store_api::get(session, &store, &c.id).await else {
            return;
        };
        let summary = ModelSummary {
            name: got.doc.display_name(&c.id),
            url: store_api::model_url(&store, &c.id),
            updated: c.updated.clone(),
            size: got.size as u64,
            etag: got.etag.trim_matches('"').to_string(),
            id: c.id.clone(),
        };
        rows.try_update(|r| {
            r.retain(|(s, m)| !(s.id == store.id && m.id == c.id));
            r.insert(0, (store.clone(), summary));
        });
        flash(rows, fresh, store.id.clone(), c.id.clone(), false);
    });
}

/// Highlights a row for [`FRESH_FOR`]; a deleted one then leaves the list.
fn flash(
    rows: RwSignal<Vec<(StoreEntry, ModelSummary)>>,
    fresh: RwSignal<Vec<(String, String, bool)>>,
    store: String,
    id: String,
    deleted: bool,
) {
    fresh.try_update(|f| {
        f.retain(|(s, i, _)| !(s == &store && i == &id));
        f.push((store.clone(), id.clone(), deleted));
    });
    set_timeout(
        move || {
            fresh.try_update(|f| f.retain(|(s, i, _)| !(s == &store && i == &id)));
            if deleted {
                rows.try_update(|r| r.retain(|(s, m)| !(s.id == store && m.id == id)));
            }
        },
        FRESH_FOR,
    );
}
