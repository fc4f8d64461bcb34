//! The open model: its header, the actions, and the document as a collapsible JSON tree.
//! The tree renders a node's children only when it is open, and those in chunks, so a
//! document with 100,000 entries opens as fast as a small one.
use std::sync::Arc;

use leptos::prelude::*;
use sa_shared::{
    model::human_size,
    web::{
        doc::{Doc, Node, Shape},
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
                            loaded.set(Some(Loaded { doc: f.doc, etag: f.etag, size: f.size }));
                            view! {
                                {move || loaded.get().map(|l| view! {
                                    <header class="model-header">
                                        <h2 id="model-title">{l.doc.display_name(&id.get_value())}</h2>
                                        <p class="model-meta"><code>{id.get_value()}</code>" · "{human_size(l.size as u64)}</p>
                                    </header>
                                })}
                                <Actions tab=tab.get_value() id=id.get_value() loaded=loaded editing=editing reload=reload />
                                <Show when=move || !editing.get()>
                                    {move || loaded.get().map(|l| view! { <JsonTree doc=l.doc /> })}
                                </Show>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </article>
    }
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
                {move || Suspend::new(editor(NEW_MODEL.to_string(), save, cancel, busy, error.into(), "Create"))}
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
