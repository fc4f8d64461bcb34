//! The open model: its header, the actions, and the document as a collapsible JSON tree.
//! The tree renders a node's children only when it is open, and those in chunks, so a
//! document with 100,000 entries opens as fast as a small one.
use std::{sync::Arc, time::Duration};

use leptos::prelude::*;
use sa_shared::{
    history::Op,
    model::human_size,
    web::{
        doc::{Doc, Node, Shape},
        feed::{self, FeedEvent},
        store_api,
    },
};

use crate::{
    components::{actions::Actions, editor::editor},
    state::{is_outage, Ctx, Loaded, StoreSlot},
};

/// Children shown per "show more" step.
const CHUNK: usize = 200;
/// What the new-model editor starts with.
const NEW_MODEL: &str = "{\n  \"name\": \"Untitled\"\n}";
/// Strings longer than this are cut until the user asks for all of it.
const LONG_STRING: usize = 300;
/// How long "updated by … just now" stays up.
const JUST_NOW: Duration = Duration::from_secs(60);

/// What the change feed said about the open model.
#[derive(Clone, Debug, PartialEq)]
enum Live {
    None,
    /// Reloaded in place (no edit was open); who saved.
    Updated(String),
    /// Someone saved while the user edits: their version, not shown yet.
    Newer(String, Loaded),
    Deleted(String),
}

/// The right-hand side: the new-model editor, the open model, or a hint.
#[component]
pub fn ModelPane(tab: StoreSlot) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = StoredValue::new(tab.entry.clone());
    // Only while this pane's store is the active one: a navigation to a model in another store
    // must not make this pane (about to be replaced) ask its own store for that id.
    let own_id = tab.entry.id.clone();
    let model = Memo::new(move |_| {
        let here = ctx.active_id().as_deref() == Some(own_id.as_str());
        if here {
            ctx.nav.model.get()
        } else {
            None
        }
    });
    view! {
        <div class="model-pane">
            {move || {
                if ctx.creating.get() {
                    return view! { <Creator tab=tab.clone() /> }.into_any();
                }
                match model.get() {
                    Some(id) => {
                        let tab = tab.clone();
                        view! {
                            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the model…"</p> }>
                                {move || Suspend::new(model_view(tab.clone(), id.clone()))}
                            </Suspense>
                        }.into_any()
                    }
                    None => view! {
                        <div class="empty-state pick-hint">
                            <p>{format!("Pick a model from {} to see it here.", store.with_value(|s| s.name.clone()))}</p>
                            <p class="keys">"Keys: "<kbd>"/"</kbd>" search, "<kbd>"↑"</kbd><kbd>"↓"</kbd>" move, "<kbd>"Enter"</kbd>" open."</p>
                        </div>
                    }.into_any(),
                }
            }}
        </div>
    }
}

/// The open model, a split point (`split` feature): the tree and the model's actions come
/// with the first model opened, not with the list.
#[cfg_attr(feature = "split", leptos::lazy)]
async fn model_view(tab: StoreSlot, id: String) -> AnyView {
    sa_shared::web::stylesheets(&["model-view", "editor"]).await;
    view! { <ModelView tab=tab id=id /> }.into_any()
}

#[component]
fn ModelView(tab: StoreSlot, id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = StoredValue::new(tab.entry.clone());
    let tab = StoredValue::new(tab);
    let id = StoredValue::new(id);
    let loaded = RwSignal::new(None::<Loaded>);
    let editing = RwSignal::new(false);
    let doc = LocalResource::new(move || {
        let (store, id) = (store.get_value(), id.get_value());
        async move {
            let r = store_api::get(ctx.session, &store, &id).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            r
        }
    });
    let reload = Callback::new(move |_: ()| doc.refetch());
    let back = move |_| ctx.nav.go(&store.with_value(|s| s.id.clone()), None);

    // Someone else's save: with no edit open the model reloads in place; with one, a notice.
    let live = RwSignal::new(Live::None);
    // "Merge now": the Actions' merge of the open edit into the stored version.
    let merge_hook = RwSignal::new(None::<Callback<()>>);
    let shown = StoredValue::new(0u32);
    let same = |a: &str, b: &str| a.trim_matches('"') == b.trim_matches('"');
    let follow = move |who: String, op: Option<Op>, etag: Option<String>| {
        let current = loaded.with_untracked(|l| l.as_ref().map(|l| l.etag.clone()));
        if let (Some(c), Some(e)) = (&current, &etag) {
            if same(c, e) {
                return;
            }
        }
        if op == Some(Op::Deleted) {
            live.set(Live::Deleted(who));
            return;
        }
        leptos::task::spawn_local(async move {
            let (store, id) = (store.get_value(), id.get_value());
            let Ok(f) = store_api::get(ctx.session, &store, &id).await else {
                return;
            };
            // Asked again now: the user's own save may have landed meanwhile.
            let Some(current) = loaded.try_with_untracked(|l| l.as_ref().map(|l| l.etag.clone()))
            else {
                return;
            };
            if current.is_some_and(|c| same(&c, &f.etag)) {
                return;
            }
            if editing.get_untracked() {
                live.set(Live::Newer(who, f));
            } else {
                loaded.set(Some(f));
                live.set(Live::Updated(who));
                shown.update_value(|n| *n += 1);
                let n = shown.get_value();
                set_timeout(
                    move || {
                        if shown.try_get_value() == Some(n)
                            && live.with_untracked(|l| matches!(l, Live::Updated(_)))
                        {
                            live.try_set(Live::None);
                        }
                    },
                    JUST_NOW,
                );
            }
        });
    };
    feed::watch(
        ctx.session,
        store.get_value(),
        None,
        move |event| match event {
            FeedEvent::Change(c) if c.id == id.get_value() => {
                follow(c.by.name, Some(c.op), Some(c.etag))
            }
            FeedEvent::Change(_) => {}
            FeedEvent::Reset => follow("someone".into(), None, None),
        },
    );
    // The user's own edit or reload makes a notice about an older state moot.
    Effect::new(move |was: Option<bool>| {
        let now = editing.get();
        if was == Some(true) && !now && matches!(live.get_untracked(), Live::Newer(..)) {
            live.set(Live::None);
        }
        now
    });
    // History: the list follows the shown document; a restore brings the model back in place.
    let history_open = RwSignal::new(false);
    let current_text = Signal::derive(move || {
        loaded.with(|l| {
            l.as_ref()
                .map(|l| l.doc.text().to_string())
                .unwrap_or_default()
        })
    });
    let on_restored = Callback::new(move |_etag: String| {
        leptos::task::spawn_local(async move {
            let (store, id) = (store.get_value(), id.get_value());
            let r = store_api::get(ctx.session, &store, &id).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            if let Ok(f) = r {
                editing.try_set(false);
                loaded.try_set(Some(f));
                live.try_set(Live::None);
                ctx.bump(&store.id);
            }
        });
    });
    let take_theirs = move |_| {
        if let Live::Newer(who, f) = live.get_untracked() {
            editing.set(false);
            loaded.set(Some(f));
            live.set(Live::Updated(who));
        }
    };

    view! {
        <article class="model-view" aria-labelledby="model-title">
            <button type="button" class="secondary back" on:click=back>"← Back to the list"</button>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the model…"</p> }>
                {move || Suspend::new(async move {
                    match doc.await {
                        Err(e) => {
                            let msg = match e.status {
                                404 => "This model does not exist (any more). It may have been moved or deleted.".to_string(),
                                _ if is_outage(&e) => format!("{} is unavailable right now; the model can't be loaded. Try again in a moment.", store.with_value(|s| s.name.clone())),
                                _ => format!("The model could not be loaded: {e}"),
                            };
                            view! {
                                <div class="list-error" role="alert">
                                    <p>{msg}</p>
                                    <button type="button" class="secondary" on:click=move |_| reload.run(())>"Retry"</button>
                                </div>
                            }.into_any()
                        }
                        Ok(f) => {
                            loaded.set(Some(f));
                            view! {
                                {move || loaded.get().map(|l| view! {
                                    <header class="model-header">
                                        <h2 id="model-title">{l.doc.display_name(&id.get_value())}</h2>
                                        <p class="model-meta"><code>{id.get_value()}</code>" · "{human_size(l.size as u64)}</p>
                                    </header>
                                })}
                                <p class="live-notice" role="status" aria-live="polite">
                                    {move || match live.get() {
                                        Live::None => ().into_any(),
                                        Live::Updated(who) => view! { <span class="ok">"This model was updated by "{who}" just now."</span> }.into_any(),
                                        Live::Deleted(who) => view! { <span class="error">{who}" deleted this model just now. It can be restored from “Recently deleted”."</span> }.into_any(),
                                        Live::Newer(who, _) => view! {
                                            <span class="warn">{who}" saved a newer version."</span>
                                            " "
                                            <button type="button" class="link merge-now" on:click=move |_| {
                                                if let Some(m) = merge_hook.get_untracked() { m.run(()) }
                                            }>"Merge now"</button>
                                            " "
                                            <button type="button" class="link take-theirs" on:click=take_theirs>"Load their version (discard mine)"</button>
                                        }.into_any(),
                                    }}
                                </p>
                                <Actions tab=tab.get_value() id=id.get_value() loaded=loaded editing=editing reload=reload merge_hook=merge_hook on_merge=Callback::new(move |_| live.set(Live::None)) />
                                <Show when=move || !editing.get()>
                                    {move || loaded.get().map(|l| view! { <JsonTree doc=l.doc /> })}
                                </Show>
                                <section class="ex-history">
                                    <button type="button" class="secondary show-history"
                                        aria-expanded=move || history_open.get().to_string()
                                        on:click=move |_| history_open.update(|o| *o = !*o)>
                                        "History"
                                    </button>
                                    {move || history_open.get().then(|| view! {
                                        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the history…"</p> }>
                                            {Suspend::new(history_view(tab.get_value(), id.get_value(), current_text, on_restored))}
                                        </Suspense>
                                    })}
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </article>
    }
}

/// The model's History panel: sa-editor's split point, with this explorer's session.
async fn history_view(
    tab: StoreSlot,
    id: String,
    current: Signal<String>,
    on_restored: Callback<String>,
) -> AnyView {
    let ctx = expect_context::<Ctx>();
    let can_write = Signal::derive(move || ctx.session.can_write());
    sa_editor::lazy::history_view(ctx.session, tab.entry, id, can_write, current, on_restored).await
}

/// The editor for a new model in the active store.
#[component]
fn Creator(tab: StoreSlot) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let store = StoredValue::new(tab.entry.clone());
    let save = Callback::new(move |doc: Doc| {
        busy.set(true);
        error.set(None);
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let r = store_api::create(ctx.session, &store, &doc).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            busy.try_set(false);
            match r {
                Ok(c) => {
                    ctx.creating.try_set(false);
                    ctx.bump(&store.id);
                    ctx.nav.go(&store.id, Some(c.id));
                }
                Err(e) => {
                    error.try_set(Some(format!("Not created: {e}")));
                }
            }
        });
    });
    let cancel = Callback::new(move |_: ()| ctx.creating.set(false));
    let title = format!("New model in {}", tab.entry.name);
    view! {
        <article class="model-view" aria-labelledby="model-title">
            <header class="model-header"><h2 id="model-title">{title}</h2></header>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the editor…"</p> }>
                {move || Suspend::new(editor(NEW_MODEL.to_string(), save, cancel, busy, error.into(), "Create", RwSignal::new(None)))}
            </Suspense>
        </article>
    }
}

/// The document as a tree of disclosure buttons.
#[component]
pub fn JsonTree(doc: Doc) -> impl IntoView {
    view! {
        <div class="json-tree" aria-label="Document">
            <ul class="jt-root">{node(doc.root(), None, 0)}</ul>
        </div>
    }
}

/// One value of the document. A node builds its children only when opened, and those in
/// chunks, so opening a node costs only its visible children.
fn node(value: Node, key: Option<String>, depth: usize) -> AnyView {
    let key_view =
        key.map(|k| view! { <span class="jt-key">{k}</span><span class="jt-colon">": "</span> });
    let (keys, len, open_char, close_char): (Option<Arc<Vec<String>>>, usize, &str, &str) =
        match value.shape() {
            Shape::Object(keys) => {
                let len = keys.len();
                (Some(Arc::new(keys)), len, "{", "}")
            }
            Shape::Array(n) => (None, n as usize, "[", "]"),
            Shape::Scalar { class, text } => {
                let long = text.chars().count() > LONG_STRING;
                let full = RwSignal::new(!long);
                let short: String = text.chars().take(LONG_STRING).collect();
                return view! {
                    <li class="jt-leaf">
                        {key_view}
                        <span class=class>{move || if full.get() { text.clone() } else { format!("{short}…") }}</span>
                        {long.then(|| view! { <button type="button" class="link" on:click=move |_| full.set(true) hidden=move || full.get()>"show all"</button> })}
                    </li>
                }
                .into_any();
            }
        };
    let open = RwSignal::new(depth == 0 || (depth == 1 && len <= 20));
    let shown = RwSignal::new(CHUNK.min(len));
    let summary = match (keys.is_some(), len) {
        (true, 1) => "1 key".to_string(),
        (true, _) => format!("{len} keys"),
        (false, 1) => "1 item".to_string(),
        (false, _) => format!("{len} items"),
    };
    let child = move |i: usize| match &keys {
        Some(keys) => node(value.member(&keys[i]), Some(keys[i].clone()), depth + 1),
        None => node(value.item(i as u32), Some(i.to_string()), depth + 1),
    };
    let child = StoredValue::new(child);
    view! {
        <li class="jt-branch">
            <button type="button" class="jt-toggle" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <span class="jt-caret" aria-hidden="true"></span>
                {key_view}
                <span class="jt-brace">{open_char}</span>
                <span class="jt-summary">{move || if open.get() { String::new() } else { format!("{summary}{close_char}") }}</span>
            </button>
            {move || open.get().then(|| {
                // The children in chunks of CHUNK, each built once, when "show more" first
                // reaches it; built chunks stay as they are, so opened children stay open.
                let chunks = (0..len.div_ceil(CHUNK))
                    .map(|c| {
                        let reached = Memo::new(move |_| shown.get() > c * CHUNK);
                        move || {
                            reached.get().then(|| {
                                (c * CHUNK..((c + 1) * CHUNK).min(len))
                                    .map(|i| child.with_value(|f| f(i)))
                                    .collect_view()
                            })
                        }
                    })
                    .collect_view();
                // One button for all the steps, so it keeps the keyboard focus.
                let more = Memo::new(move |_| shown.get() < len);
                view! {
                    <ul role="group">{chunks}</ul>
                    {move || more.get().then(|| view! {
                        <button type="button" class="link jt-more" on:click=move |_| shown.update(|s| *s = (*s + CHUNK).min(len))>
                            {move || format!("Show {} more of {len}", (len - shown.get()).min(CHUNK))}
                        </button>
                    })}
                    <span class="jt-brace jt-close">{close_char}</span>
                }
            })}
        </li>
    }
    .into_any()
}
