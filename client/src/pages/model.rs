//! `/models/{store}/{id}`: view and edit one model as JSON. Saves carry the ETag the edit
//! started from (`If-Match`), so a newer version saved elsewhere is never overwritten by
//! accident: the store answers 412 and the user decides.
use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
    LazyRoute,
};
use sa_shared::{
    config::StoreEntry,
    web::{
        doc::Doc,
        encode,
        http::ApiError,
        session::Session,
        store_api::{self, Fetched},
    },
};

use crate::components::{explain, Doing, ErrorNotice, JsonEditor, Loading, Modal, RequireUser};

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

#[component]
fn Editor(session: Session, store: StoreEntry, id: String, fetched: Fetched) -> impl IntoView {
    let navigate = use_navigate();
    let store = StoredValue::new(store);
    let id = StoredValue::new(id);
    let initial = fetched.doc.pretty();
    let saved_doc = RwSignal::new(fetched.doc);
    let text = RwSignal::new(initial.clone());
    let saved_text = RwSignal::new(initial);
    let etag = RwSignal::new(fetched.etag);
    let checked = Memo::new(move |_| Doc::parse_model(&text.get()));
    let dirty = Memo::new(move |_| text.with(|t| saved_text.with(|s| t != s)));
    let title = Memo::new(move |_| {
        checked.with(|c| match c {
            Ok(doc) => doc.display_name(&id.get_value()),
            Err(_) => saved_doc.with(|d| d.display_name(&id.get_value())),
        })
    });
    let read_only = Signal::derive(move || !session.can_write());
    let busy = RwSignal::new(false);
    let status = RwSignal::new(Status::None);
    let conflict_open = RwSignal::new(false);
    let theirs = RwSignal::new(None::<Fetched>);
    let delete_open = RwSignal::new(false);

    let store_name = move || store.with_value(|s| s.name.clone());
    let fail = move |e: ApiError| {
        status.set(Status::Error(explain(
            &e,
            Doing::Writing,
            Some(&store_name()),
        )))
    };

    // Saves `doc` over the version with `tag`; on 412 fetches theirs and asks.
    let save_with = move |tag: String| {
        let Ok(doc) = checked.get_untracked() else {
            return;
        };
        busy.set(true);
        status.set(Status::None);
        leptos::task::spawn_local(async move {
            let (s, i) = (store.get_value(), id.get_value());
            match store_api::put(session, &s, &i, &doc, &tag).await {
                Ok(new_tag) => {
                    etag.set(new_tag);
                    saved_text.set(text.get_untracked());
                    saved_doc.set(doc);
                    status.set(Status::Saved);
                }
                Err(e) if e.status == 412 => match store_api::get(session, &s, &i).await {
                    Ok(latest) => {
                        theirs.set(Some(latest));
                        conflict_open.set(true);
                    }
                    Err(e) => fail(e),
                },
                Err(e) => fail(e),
            }
            busy.set(false);
        });
    };
    let save = move || save_with(etag.get_untracked());

    let reload_theirs = move |_| {
        if let Some(latest) = theirs.get_untracked() {
            let t = latest.doc.pretty();
            text.set(t.clone());
            saved_text.set(t);
            saved_doc.set(latest.doc);
            etag.set(latest.etag);
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
        save_with(tag);
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

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("s") {
            ev.prevent_default();
            if !read_only.get_untracked()
                && dirty.get_untracked()
                && checked.with_untracked(|c| c.is_ok())
                && !busy.get_untracked()
            {
                save();
            }
        }
    };

    view! {
        <section class="card model-page" on:keydown=on_keydown>
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
            </p>
            {move || read_only.get().then(|| view! {
                <div class="notice info" role="note" id="read-only-notice">
                    "Read-only: your account can read models but not change them. Ask an admin to give you the writer role."
                </div>
            })}
            <JsonEditor id="model-json" label="Model (JSON)" text=text checked=checked readonly=read_only />
            {move || match status.get() {
                Status::None => ().into_any(),
                Status::Saved => view! { <p class="notice ok" role="status" id="save-status">"Saved."</p> }.into_any(),
                Status::Info(m) => view! { <p class="notice info" role="status" id="save-status">{m}</p> }.into_any(),
                Status::Error(m) => view! { <ErrorNotice message=m /> }.into_any(),
            }}
            <div class="actions">
                <button type="button" id="save-model"
                    disabled=move || read_only.get() || busy.get() || !dirty.get() || checked.with(|c| c.is_err())
                    on:click=move |_| save()>
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" id="format-model"
                    disabled=move || read_only.get() || checked.with(|c| c.is_err())
                    on:click=move |_| if let Ok(doc) = checked.get_untracked() { text.set(doc.pretty()) }>
                    "Format"
                </button>
                <button type="button" class="secondary" id="revert-model" disabled=move || !dirty.get()
                    on:click=move |_| { text.set(saved_text.get_untracked()); status.set(Status::None) }>
                    "Revert"
                </button>
                <span class="spacer"></span>
                <button type="button" class="danger" id="delete-model" disabled=move || read_only.get() || busy.get()
                    on:click=move |_| delete_open.set(true)>
                    "Delete…"
                </button>
            </div>
        </section>

        <Modal open=conflict_open labelled_by="conflict-title" class="conflict-dialog" alert=true>
            <h2 id="conflict-title">"Someone saved a newer version"</h2>
            <p>"While you were editing, this model was saved from somewhere else. Choose which version to keep."</p>
            <div class="compare">
                <div>
                    <h3>"Their version (now in the store)"</h3>
                    <pre class="code small" id="conflict-theirs">{move || theirs.get().map(|t| t.doc.pretty()).unwrap_or_default()}</pre>
                </div>
                <div>
                    <h3>"Your edit"</h3>
                    <pre class="code small" id="conflict-mine">{move || text.get()}</pre>
                </div>
            </div>
            <div class="actions">
                <button type="button" id="conflict-reload" class="secondary" on:click=reload_theirs>"Reload theirs (discard my edit)"</button>
                <button type="button" id="conflict-overwrite" class="danger" on:click=overwrite>"Overwrite with mine"</button>
                <button type="button" id="conflict-cancel" class="secondary" on:click=move |_| conflict_open.set(false)>"Keep editing"</button>
            </div>
        </Modal>

        <Modal open=delete_open labelled_by="delete-title" alert=true>
            <h2 id="delete-title">{move || format!("Delete “{}”?", title.get())}</h2>
            <p>"The model is removed from the " {store_name()} " store for everyone. This cannot be undone."</p>
            <div class="actions">
                <button type="button" id="delete-cancel" class="secondary" on:click=move |_| delete_open.set(false)>"Cancel"</button>
                <button type="button" id="delete-confirm" class="danger" on:click=do_delete>"Delete"</button>
            </div>
        </Modal>
    }
}
