//! `/new`: create a model in a chosen store, in the shared editor (sa-editor's `JsonEditor`:
//! highlighting, line numbers, the error's place, Format, Ctrl/Cmd+S to create).
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate, LazyRoute};
use sa_shared::web::{doc::Doc, encode, session::Session, store_api};

use crate::components::{explain, Doing, ErrorNotice, RequireUser};

const TEMPLATE: &str =
    "{\n  \"name\": \"Untitled model\",\n  \"description\": \"\",\n  \"elements\": []\n}";

/// `/new`, a split point: writers only, and not on the way to the list.
pub struct NewModelRoute(Session);

impl LazyRoute for NewModelRoute {
    fn data() -> Self {
        NewModelRoute(expect_context())
    }

    async fn view(this: Self) -> AnyView {
        new_model_view(this.0).await
    }
}

#[cfg_attr(feature = "split", leptos::lazy)]
async fn new_model_view(session: Session) -> AnyView {
    sa_shared::web::stylesheet("editor").await;
    view! { <NewModelPage session=session /> }.into_any()
}

#[component]
pub fn NewModelPage(session: Session) -> impl IntoView {
    view! {
        <RequireUser session=session>
            <NewModel session=session />
        </RequireUser>
    }
}

#[component]
fn NewModel(session: Session) -> impl IntoView {
    let navigate = use_navigate();
    let stores = session.config().stores;
    let store_id = RwSignal::new(stores.first().map(|s| s.id.clone()).unwrap_or_default());
    let text = RwSignal::new(TEMPLATE.to_string());
    let checked = Memo::new(move |_| Doc::parse_model(&text.get()));
    // The editor says where the JSON breaks; this says what is wrong with JSON that parses but
    // is no model (empty, or not an object).
    let not_a_model = move || {
        let problem = checked.with(|c| c.as_ref().err().cloned())?;
        // A syntax error is the editor's to show, at its place.
        text.with(|t| t.trim().is_empty() || Doc::parse(t).is_ok())
            .then_some(problem)
    };
    let read_only = Signal::derive(move || !session.can_write());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let create = move || {
        if read_only.get_untracked() || busy.get_untracked() {
            return;
        }
        let Ok(doc) = checked.get_untracked() else {
            error.set(Some(
                "Fix the JSON first: the line under the editor says where it breaks.".into(),
            ));
            return;
        };
        let Some(store) = session.config().store(&store_id.get_untracked()).cloned() else {
            error.set(Some("Choose a store.".into()));
            return;
        };
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match store_api::create(session, &store, &doc).await {
                Ok(created) => navigate(
                    &format!("/models/{}/{}", encode(&store.id), encode(&created.id)),
                    Default::default(),
                ),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(explain(&e, Doing::Writing, Some(&store.name))));
                }
            }
        });
    };

    let create_on_save = create.clone();

    view! {
        <section class="card">
            <nav class="breadcrumbs" aria-label="Breadcrumb"><A href="/">"Models"</A> " / new"</nav>
            <h1>"New model"</h1>
            {move || read_only.get().then(|| view! {
                <div class="notice info" role="alert" id="read-only-notice">
                    "Your account can read models but not create them. Ask an admin to give you the writer role."
                </div>
            })}
            <form id="new-model-form" on:submit=move |ev| {
                ev.prevent_default();
                create();
            }>
                <fieldset class="store-choice" disabled=move || read_only.get()>
                    <legend>"Store"</legend>
                    {stores.iter().map(|s| {
                        let id = s.id.clone();
                        let id2 = s.id.clone();
                        view! {
                            <label class="choice">
                                <input type="radio" name="store" value=s.id.clone() id=format!("store-{}", s.id)
                                    prop:checked=move || store_id.get() == id
                                    on:change=move |_| store_id.set(id2.clone()) />
                                {s.name.clone()}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <sa_editor::JsonEditor id="new-model-json" label="Model (JSON)"
                    text=Signal::derive(|| TEMPLATE.to_string()) read_only=read_only
                    on_change=Callback::new(move |t: String| text.set(t))
                    on_save=Callback::new(move |t: String| {
                        text.set(t);
                        create_on_save();
                    }) />
                {move || not_a_model().map(|m| view! { <p class="notice error" id="new-model-problem" role="alert">{m}</p> })}
                {move || error.get().map(|m| view! { <ErrorNotice message=m /> })}
                <div class="actions">
                    <button type="submit" id="create-model"
                        disabled=move || read_only.get() || busy.get() || checked.with(|c| c.is_err())>
                        {move || if busy.get() { "Creating…" } else { "Create model" }}
                    </button>
                    <A href="/">"Cancel"</A>
                </div>
            </form>
        </section>
    }
}
