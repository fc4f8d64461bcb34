//! `/models/{store}/{id}`: view and edit one model as JSON. Saves carry the ETag the edit
//! started from (`If-Match`), so a newer version saved elsewhere is never overwritten by
//! accident: on a 412 the page merges the edit into the newer version (three-way, from the
//! history's copy of the version the edit started from) and asks only about paths both sides
//! changed. The page follows the store's change feed: a newer version replaces an unedited
//! document in place, and is announced over an edited one.
use leptos::prelude::*;
use std::collections::HashSet;

use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
    LazyRoute,
};
use sa_shared::{
    config::StoreEntry,
    history::{Change, Op},
    web::{
        doc::Doc,
        encode,
        feed::{self, FeedEvent},
        http::ApiError,
        session::Session,
        store_api::{self, Fetched},
    },
};

use sa_editor::lazy::{history_view, merge_dialog, three_way};

use crate::components::{explain, Doing, ErrorNotice, Loading, Modal, RequireUser};

/// `/models/{store}/{id}`, a split point: the editor and its dialogs are their own chunk.
pub struct ModelRoute(Session);

impl LazyRoute for ModelRoute {
    fn data() -> Self {
        ModelRoute(expect_context())
    }

    async fn view(this: Self) -> AnyView {
        model_view(this.0).await
    }
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn model_view(session: Session) -> AnyView {
    sa_shared::web::stylesheet("editor").await;
    view! { <ModelPage session=session /> }.into_any()
}

#[component]
pub fn ModelPage(session: Session) -> impl IntoView {
    let params = use_params_map();
    // Another model under the same route (e.g. picked in the explorer) is a new page.
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("store").unwrap_or_default(),
                p.get("id").unwrap_or_default(),
            )
        })
    });
    view! {
        <RequireUser session=session>
            {move || {
                let (store_id, id) = key.get();
                match session.config().store(&store_id).cloned() {
                    Some(store) => view! { <ModelLoader session=session store=store id=id /> }.into_any(),
                    None => view! {
                        <section class="card">
                            <h1>"Unknown store"</h1>
                            <ErrorNotice message=format!("This deployment has no store called “{store_id}”. The link may come from another installation.") />
                            <p><A href="/">"Back to your models"</A></p>
                        </section>
                    }.into_any(),
                }
            }}
        </RequireUser>
    }
}

#[component]
fn ModelLoader(session: Session, store: StoreEntry, id: String) -> impl IntoView {
    let (s, i) = (store.clone(), id.clone());
    let doc = LocalResource::new(move || {
        let (s, i) = (s.clone(), i.clone());
        async move { store_api::get(session, &s, &i).await }
    });
    let (store, id) = (StoredValue::new(store), StoredValue::new(id));
    view! {
        <Suspense fallback=|| view! { <Loading what="the model" /> }>
            {move || Suspend::new(async move {
                let store = store.get_value();
                match doc.await {
                Ok(fetched) => view! { <Editor session=session store=store id=id.get_value() fetched=fetched /> }.into_any(),
                Err(e) => {
                    let msg = if e.status == 404 {
                        "This model does not exist (any more): someone may have deleted it.".to_string()
                    } else {
                        explain(&e, Doing::Reading, Some(&store.name))
                    };
                    view! {
                        <section class="card">
                            <h1>"Cannot open this model"</h1>
                            <ErrorNotice message=msg />
                            <p class="actions">
                                <button type="button" on:click=move |_| doc.refetch()>"Try again"</button>
                                <A href="/">"Back to your models"</A>
                            </p>
                        </section>
                    }.into_any()
                }
            }})}
        </Suspense>
    }
}

/// What the last action left to tell the user.
#[derive(Clone, PartialEq)]
enum Status {
    None,
    Saved,
    Info(String),
    Error(String),
}

/// The three documents of a merge that needs the user's choices.
#[derive(Clone)]
struct MergeInput {
    base: String,
    theirs: Fetched,
    mine: String,
}

/// ETags compare without their quotes: the feed quotes them, history does not.
fn bare(etag: &str) -> &str {
    etag.trim_matches('"')
}

#[component]
fn Editor(session: Session, store: StoreEntry, id: String, fetched: Fetched) -> impl IntoView {
    let navigate = use_navigate();
    let store = StoredValue::new(store);
    let id = StoredValue::new(id);
    let initial = fetched.doc.pretty();
    let saved_doc = RwSignal::new(fetched.doc);
    // The stored version's text as the editor shows it; `draft` is the editor's text now.
    let saved_text = RwSignal::new(initial.clone());
    let draft = RwSignal::new(initial.clone());
    // What the editor is (re)mounted with: a new `generation` replaces its text, so the same
    // text twice (a revert) still reaches it.
    let shown = RwSignal::new(initial);
    let generation = RwSignal::new(0u32);
    // The version the edit started from: `If-Match` of the next save, base of a merge.
    let etag = RwSignal::new(fetched.etag);
    // Versions this page wrote: their feed events are its own saves.
    let own = StoredValue::new(HashSet::<String>::new());
    let dirty = Memo::new(move |_| draft.with(|t| saved_text.with(|s| t != s)));
    let title = Memo::new(move |_| saved_doc.with(|d| d.display_name(&id.get_value())));
    let read_only = Signal::derive(move || !session.can_write());
    let busy = RwSignal::new(false);
    let status = RwSignal::new(Status::None);
    // "updated by {name} just now", after an in-place update.
    let updated_by = RwSignal::new(None::<String>);
    // A newer version saved elsewhere while the user has edits.
    let newer = RwSignal::new(None::<Change>);
    let gone = RwSignal::new(None::<String>);
    let pending = StoredValue::new(Vec::<Change>::new());
    let conflict_open = RwSignal::new(false);
    let merge_input = RwSignal::new(None::<MergeInput>);
    // The pick-one fallback when the version the edit started from is no longer kept.
    let theirs = RwSignal::new(None::<Fetched>);
    // "See changes": the draft and the newer version, compared in a dialog.
    let changes = RwSignal::new(None::<(String, String)>);
    let changes_shown = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let history_open = RwSignal::new(false);

    let store_name = move || store.with_value(|s| s.name.clone());
    let fail = move |e: ApiError| {
        status.set(Status::Error(explain(
            &e,
            Doing::Writing,
            Some(&store_name()),
        )))
    };
    let replace_text = move |t: String| {
        shown.set(t.clone());
        draft.set(t);
        generation.update(|g| *g += 1);
    };
    // Takes `latest` as the stored version, and as the editor's text.
    let load = move |latest: Fetched| {
        let t = latest.doc.pretty();
        saved_text.set(t.clone());
        saved_doc.set(latest.doc);
        etag.set(latest.etag);
        newer.set(None);
        replace_text(t);
    };

    // Defined below; the save and the feed call each other.
    let merge_action = StoredValue::new(None::<Callback<()>>);
    let handle_change = StoredValue::new(None::<Callback<Change>>);

    // Saves the draft over the version with `tag`; on 412 merges with the newer version.
    let save_with = move |tag: String, after: Option<String>| {
        let doc = match Doc::parse_model(&draft.get_untracked()) {
            Ok(doc) => doc,
            Err(e) => {
                status.set(Status::Error(e));
                return;
            }
        };
        busy.set(true);
        status.set(Status::None);
        leptos::task::spawn_local(async move {
            let (s, i) = (store.get_value(), id.get_value());
            match store_api::put(session, &s, &i, &doc, &tag).await {
                Ok(new_tag) => {
                    own.update_value(|o| {
                        o.insert(bare(&new_tag).to_string());
                    });
                    etag.set(new_tag);
                    saved_text.set(draft.get_untracked());
                    saved_doc.set(doc);
                    newer.set(None);
                    updated_by.set(None);
                    status.set(match after {
                        Some(m) => Status::Info(m),
                        None => Status::Saved,
                    });
                    busy.set(false);
                }
                Err(e) if e.status == 412 => {
                    busy.set(false);
                    if let Some(m) = merge_action.get_value() {
                        m.run(());
                    }
                }
                Err(e) => {
                    busy.set(false);
                    fail(e)
                }
            }
            // Events that came while saving: the page's own save is among them.
            for c in pending.try_update_value(std::mem::take).unwrap_or_default() {
                if let Some(h) = handle_change.get_value() {
                    h.run(c);
                }
            }
        });
    };
    let save = move || save_with(etag.get_untracked(), None);

    // Three-way merge of the draft with the stored version, from the version it started from.
    let merge_now = move || {
        busy.set(true);
        status.set(Status::Info(
            "Merging your edit with the newer version…".into(),
        ));
        leptos::task::spawn_local(async move {
            let (s, i) = (store.get_value(), id.get_value());
            let latest = match store_api::get(session, &s, &i).await {
                Ok(l) => l,
                Err(e) => {
                    busy.set(false);
                    return fail(e);
                }
            };
            let mine = draft.get_untracked();
            let base = store_api::version(session, &s, &i, &etag.get_untracked()).await;
            let Ok(base) = base else {
                // History no longer keeps it: only a choice between the two is left.
                busy.set(false);
                status.set(Status::None);
                theirs.set(Some(latest));
                merge_input.set(None);
                conflict_open.set(true);
                return;
            };
            let base = base.doc.text().to_string();
            let outcome =
                three_way(base.clone(), latest.doc.text().to_string(), mine.clone()).await;
            busy.set(false);
            match outcome {
                Err(e) => status.set(Status::Error(e)),
                Ok(Some((merged, summary))) => {
                    let tag = latest.etag.clone();
                    load(latest);
                    replace_text(merged);
                    save_with(tag, Some(format!("Merged and saved: {summary}.")));
                }
                Ok(None) => {
                    status.set(Status::None);
                    theirs.set(None);
                    merge_input.set(Some(MergeInput {
                        base,
                        theirs: latest,
                        mine,
                    }));
                    conflict_open.set(true);
                }
            }
        });
    };
    merge_action.set_value(Some(Callback::new(move |_| merge_now())));

    let resolved = Callback::new(move |text: String| {
        conflict_open.set(false);
        if let Some(m) = merge_input.get_untracked() {
            let tag = m.theirs.etag.clone();
            load(m.theirs);
            replace_text(text);
            save_with(tag, None);
        }
    });

    // A write to this model from the change feed.
    let on_change = move |c: Change| {
        if busy.get_untracked() {
            pending.update_value(|p| p.push(c));
            return;
        }
        let tag = bare(&c.etag).to_string();
        if own.with_value(|o| o.contains(&tag)) || bare(&etag.get_untracked()) == tag {
            return;
        }
        if c.op == Op::Deleted {
            gone.set(Some(c.by.name));
            return;
        }
        gone.set(None);
        if dirty.get_untracked() {
            newer.set(Some(c));
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(latest) = store_api::get(session, &store.get_value(), &id.get_value()).await {
                if dirty.get_untracked() {
                    newer.set(Some(c));
                } else if bare(&latest.etag) != bare(&etag.get_untracked()) {
                    load(latest);
                    updated_by.set(Some(c.by.name));
                    status.set(Status::None);
                }
            }
        });
    };
    handle_change.set_value(Some(Callback::new(on_change)));
    {
        let my_id = id.get_value();
        feed::watch(session, store.get_value(), None, move |ev| match ev {
            FeedEvent::Change(c) if c.id == my_id => on_change(c),
            FeedEvent::Change(_) => {}
            // Missed events: whatever is stored now counts as one newer version.
            FeedEvent::Reset => {
                if !busy.get_untracked() && !dirty.get_untracked() {
                    leptos::task::spawn_local(async move {
                        if let Ok(latest) =
                            store_api::get(session, &store.get_value(), &id.get_value()).await
                        {
                            if !dirty.get_untracked()
                                && bare(&latest.etag) != bare(&etag.get_untracked())
                            {
                                load(latest);
                            }
                        }
                    });
                }
            }
        });
    }

    let see_changes = move |_| {
        leptos::task::spawn_local(async move {
            match store_api::get(session, &store.get_value(), &id.get_value()).await {
                Ok(latest) => {
                    changes.set(Some((draft.get_untracked(), latest.doc.text().to_string())));
                    changes_shown.set(true);
                }
                Err(e) => fail(e),
            }
        });
    };

    let reload_theirs = move |_| {
        let latest = theirs
            .get_untracked()
            .or_else(|| merge_input.get_untracked().map(|m| m.theirs));
        if let Some(latest) = latest {
            load(latest);
            status.set(Status::Info(
                "Loaded the newer version. Your edit was discarded.".into(),
            ));
        }
        conflict_open.set(false);
    };
    let overwrite = move |_| {
        let tag = theirs
            .get_untracked()
            .map(|t| t.etag)
            .unwrap_or_else(|| etag.get_untracked());
        conflict_open.set(false);
        save_with(tag, None);
    };
    let do_delete = move |_| {
        delete_open.set(false);
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let name = title.get_untracked();
            match store_api::delete(session, &store.get_value(), &id.get_value()).await {
                Ok(()) => navigate(&format!("/?deleted={}", encode(&name)), Default::default()),
                Err(e) => {
                    busy.set(false);
                    fail(e)
                }
            }
        });
    };
    let on_save = Callback::new(move |_: String| {
        if !read_only.get_untracked() && dirty.get_untracked() && !busy.get_untracked() {
            save();
        }
    });
    let on_restored = Callback::new(move |new_tag: String| {
        own.update_value(|o| {
            o.insert(bare(&new_tag).to_string());
        });
        leptos::task::spawn_local(async move {
            match store_api::get(session, &store.get_value(), &id.get_value()).await {
                Ok(latest) => {
                    load(latest);
                    updated_by.set(None);
                    status.set(Status::Info(
                        "Restored: that version is now the current one (a new version).".into(),
                    ));
                }
                Err(e) => fail(e),
            }
        });
    });

    view! {
        <section class="card model-page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <A href="/">"Models"</A> " / " <span>{store_name()}</span>
            </nav>
            <div class="section-head">
                <h1 id="model-title">{move || title.get()}</h1>
                <span class="badge" class:dirty=move || dirty.get()>
                    {move || if read_only.get() { "Read-only" } else if dirty.get() { "Unsaved changes" } else { "Saved" }}
                </span>
            </div>
            <p class="meta">
                <span class="mono" title="Model id">{id.get_value()}</span>
                " · "
                <a href=store_api::model_url(&store.get_value(), &id.get_value()) target="_blank" rel="noopener">"API URL"</a>
                {move || updated_by.get().map(|name| view! {
                    " · " <span class="live-updated" id="live-updated" role="status">{format!("updated by {name} just now")}</span>
                })}
            </p>
            {move || read_only.get().then(|| view! {
                <div class="notice info" role="note" id="read-only-notice">
                    "Read-only: your account can read models but not change them. Ask an admin to give you the writer role."
                </div>
            })}
            {move || gone.get().map(|name| view! {
                <div class="notice error" role="alert" id="live-deleted">
                    {format!("{name} deleted this model. Saving brings it back only through its history.")}
                </div>
            })}
            {move || newer.get().map(|c| view! {
                <div class="notice info live-notice" role="status" id="live-notice">
                    <span>{format!("{} saved a newer version.", c.by.name)}</span>
                    <span class="actions">
                        <button type="button" class="secondary" id="live-see-changes" on:click=see_changes>"See changes"</button>
                        <button type="button" id="live-merge" disabled=move || busy.get() || read_only.get()
                            on:click=move |_| merge_now()>"Merge now"</button>
                    </span>
                </div>
            })}
            {move || {
                generation.track();
                let t = shown.get_untracked();
                view! {
                    <JsonEditor
                        id="model-json"
                        label="Model (JSON)"
                        text=Signal::derive(move || t.clone())
                        read_only=read_only
                        on_change=move |t: String| draft.set(t)
                        on_save=on_save
                    />
                }
            }}
            {move || match status.get() {
                Status::None => ().into_any(),
                Status::Saved => view! { <p class="notice ok" role="status" id="save-status">"Saved."</p> }.into_any(),
                Status::Info(m) => view! { <p class="notice info" role="status" id="save-status">{m}</p> }.into_any(),
                Status::Error(m) => view! { <ErrorNotice message=m /> }.into_any(),
            }}
            <div class="actions">
                <button type="button" id="save-model"
                    disabled=move || read_only.get() || busy.get() || !dirty.get()
                    on:click=move |_| save()>
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" id="revert-model" disabled=move || !dirty.get()
                    on:click=move |_| { replace_text(saved_text.get_untracked()); status.set(Status::None) }>
                    "Revert"
                </button>
                <button type="button" class="secondary" id="history-toggle"
                    aria-expanded=move || history_open.get().to_string() aria-controls="history"
                    on:click=move |_| history_open.update(|o| *o = !*o)>
                    {move || if history_open.get() { "Hide history" } else { "History" }}
                </button>
                <span class="spacer"></span>
                <button type="button" class="danger" id="delete-model" disabled=move || read_only.get() || busy.get()
                    on:click=move |_| delete_open.set(true)>
                    "Delete…"
                </button>
            </div>
        </section>

        <div id="history">
            {move || history_open.get().then(|| view! {
                <section class="card">
                    <Suspense fallback=|| view! { <Loading what="the history" /> }>
                        {move || Suspend::new(history_view(
                            session,
                            store.get_value(),
                            id.get_value(),
                            Signal::derive(move || !read_only.get()),
                            Signal::derive(move || saved_doc.with(|d| d.text().to_string())),
                            on_restored,
                        ))}
                    </Suspense>
                </section>
            })}
        </div>

        <Modal open=conflict_open labelled_by="conflict-title" class="conflict-dialog" alert=true>
            <h2 id="conflict-title">"Someone saved a newer version"</h2>
            {move || match merge_input.get() {
                Some(m) => view! {
                    <p>"While you were editing, this model was saved from somewhere else. Your changes and theirs were merged where they touch different places."</p>
                    <Suspense fallback=|| view! { <Loading what="the merge" /> }>
                        {
                            let m = m.clone();
                            move || Suspend::new(merge_dialog(m.base.clone(), m.theirs.doc.text().to_string(), m.mine.clone(), resolved))
                        }
                    </Suspense>
                    <div class="actions">
                        <button type="button" id="conflict-reload" class="secondary" on:click=reload_theirs>"Reload theirs (discard my edit)"</button>
                        <button type="button" id="conflict-cancel" class="secondary" on:click=move |_| conflict_open.set(false)>"Keep editing"</button>
                    </div>
                }.into_any(),
                None => view! {
                    <p>"While you were editing, this model was saved from somewhere else, and the version your edit started from is no longer kept. Choose which version to keep."</p>
                    <div class="compare">
                        <div>
                            <h3>"Their version (now in the store)"</h3>
                            <pre class="code small" id="conflict-theirs">{move || theirs.get().map(|t| t.doc.pretty()).unwrap_or_default()}</pre>
                        </div>
                        <div>
                            <h3>"Your edit"</h3>
                            <pre class="code small" id="conflict-mine">{move || draft.get()}</pre>
                        </div>
                    </div>
                    <div class="actions">
                        <button type="button" id="conflict-reload" class="secondary" on:click=reload_theirs>"Reload theirs (discard my edit)"</button>
                        <button type="button" id="conflict-overwrite" class="danger" on:click=overwrite>"Overwrite with mine"</button>
                        <button type="button" id="conflict-cancel" class="secondary" on:click=move |_| conflict_open.set(false)>"Keep editing"</button>
                    </div>
                }.into_any(),
            }}
        </Modal>

        <Modal open=changes_shown labelled_by="changes-title" class="changes-dialog">
            <h2 id="changes-title">"Their changes"</h2>
            <p>"What the newer version changes, compared with your edit:"</p>
            {move || changes.get().filter(|_| changes_shown.get()).map(|(mine, latest)| view! {
                <Suspense fallback=|| view! { <Loading what="the changes" /> }>
                    {
                        let (mine, latest) = (mine.clone(), latest.clone());
                        move || Suspend::new(diff_view(mine.clone(), latest.clone(), "Changes from your edit to the newer version".to_string()))
                    }
                </Suspense>
            })}
            <div class="actions">
                <button type="button" id="changes-close" class="secondary" on:click=move |_| changes_shown.set(false)>"Close"</button>
            </div>
        </Modal>

        <Modal open=delete_open labelled_by="delete-title" alert=true>
            <h2 id="delete-title">{move || format!("Delete “{}”?", title.get())}</h2>
            <p>"The model is removed from the " {store_name()} " store for everyone. It stays in its history, from where it can be restored."</p>
            <div class="actions">
                <button type="button" id="delete-cancel" class="secondary" on:click=move |_| delete_open.set(false)>"Cancel"</button>
                <button type="button" id="delete-confirm" class="danger" on:click=do_delete>"Delete"</button>
            </div>
        </Modal>
    }
}

// The editor, the merge, the diff and the history are split points of their own: none of it is
// in the first load, and the merge and diff code only arrives when needed.

/// The JSON editor, in its own chunk.
#[component]
fn JsonEditor(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    text: Signal<String>,
    read_only: Signal<bool>,
    #[prop(into)] on_change: Callback<String>,
    on_save: Callback<String>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <Loading what="the editor" /> }>
            {
                let (id, label) = (id.clone(), label.clone());
                move || Suspend::new(editor_view(id.clone(), label.clone(), text, read_only, on_change, on_save))
            }
        </Suspense>
    }
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn editor_view(
    id: String,
    label: String,
    text: Signal<String>,
    read_only: Signal<bool>,
    on_change: Callback<String>,
    on_save: Callback<String>,
) -> AnyView {
    view! {
        <sa_editor::JsonEditor id=id label=label text=text read_only=read_only on_change=on_change on_save=on_save />
    }
    .into_any()
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn diff_view(old: String, new: String, label: String) -> AnyView {
    match (
        serde_json::from_str::<serde_json::Value>(&old),
        serde_json::from_str::<serde_json::Value>(&new),
    ) {
        (Ok(old), Ok(new)) => {
            view! { <sa_editor::DiffView old=old new=new label=label id="live-diff" /> }.into_any()
        }
        _ => view! { <ErrorNotice message="Your edit is not valid JSON yet, so it cannot be compared." /> }
            .into_any(),
    }
}
