//! The model explorer: one tab per storage system. A component for the client's pop-over and
//! for the standalone app on `explorer.D`.
#![forbid(unsafe_code)]

pub mod components;
mod dom;
mod state;

use leptos::{ev, prelude::*};
use leptos_router::{
    components::{Route, Router, Routes, A},
    hooks::{use_navigate, use_params_map},
    path,
};
use sa_shared::{
    config::RuntimeConfig,
    web::{
        encode,
        session::{Session, SessionState},
    },
};

use components::{model_list::ModelList, model_view::ModelPane, tabs::Tabs};
use state::Ctx;
pub use state::Nav;

/// Browses the models of every configured store.
///
/// `on_pick` receives the picked model as `(store id, model id)`; without it, picking opens the
/// model inside the explorer. `compact` is the narrow layout used in the pop-over.
/// The standalone app puts the active store and model in the URL by providing a [`Nav`]
/// context; without one the explorer keeps them to itself.
#[component]
pub fn Explorer(
    session: Session,
    #[prop(optional, into)] on_pick: Option<Callback<(String, String)>>,
    #[prop(optional)] compact: bool,
) -> impl IntoView {
    let config = session.config();
    let nav = use_context::<Nav>().unwrap_or_else(Nav::local);
    let ctx = Ctx::new(session, &config, nav, on_pick);
    provide_context(ctx);
    provide_context(session);

    // `/` focuses the search box unless the user is typing somewhere.
    let keys = window_event_listener(ev::keydown, move |e| {
        if e.key() == "/"
            && !e.ctrl_key()
            && !e.meta_key()
            && !e.alt_key()
            && !dom::typing_in_field(&e)
        {
            // Only while this explorer is on screen (the client keeps it in a closed dialog).
            if let Some(input) = ctx
                .search
                .get_untracked()
                .filter(|i| i.offset_parent().is_some())
            {
                e.prevent_default();
                let _ = input.focus();
            }
        }
    });
    on_cleanup(move || keys.remove());

    let active = Memo::new(move |_| ctx.active_id());
    let known = move || active.get().is_some_and(|id| ctx.slot(&id).is_some());
    let has_model = move || ctx.nav.model.get().is_some() || ctx.creating.get();

    view! {
        <section class="explorer" class:compact=compact class:has-model=has_model aria-label="Model explorer">
            <Tabs active=active />
            <div role="tabpanel" class="panel" id=move || format!("panel-{}", active.get().unwrap_or_default())
                aria-labelledby=move || format!("tab-{}", active.get().unwrap_or_default())>
                {move || match session.state() {
                    SessionState::Restoring => view! { <p class="loading" role="status">"Checking your sign-in…"</p> }.into_any(),
                    SessionState::SignedOut => view! { <SignInPrompt session=session /> }.into_any(),
                    SessionState::SignedIn { .. } if !known() => view! { <UnknownStore id=active.get().unwrap_or_default() /> }.into_any(),
                    SessionState::SignedIn { .. } => view! { <Browser active=active /> }.into_any(),
                }}
            </div>
        </section>
    }
}

/// The list and the open model of the active store, side by side (one at a time on phones).
#[component]
fn Browser(active: Memo<Option<String>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="explorer-body">
            // Keyed on the store id alone, so a new list (and its first page) comes with each tab.
            {move || active.get().and_then(|id| ctx.slot(&id)).map(|slot| view! { <ModelList tab=slot /> })}
            {move || active.get().and_then(|id| ctx.slot(&id)).map(|slot| view! { <ModelPane tab=slot /> })}
        </div>
    }
}

#[component]
fn SignInPrompt(session: Session) -> impl IntoView {
    let href = session.login_url(&window().location().href().unwrap_or_default());
    view! {
        <div class="empty-state signin">
            <p>"You are not signed in. Sign in to browse and edit the models in every store; you will come back here afterwards."</p>
            <a class="button" href=href>"Sign in"</a>
            // Not "signed out" but "could not ask": say so, or the user signs in for nothing.
            {move || session.last_error().map(|e| view! {
                <p class="error" role="alert">"Your session could not be checked: "{e.message}</p>
            })}
        </div>
    }
}

#[component]
fn UnknownStore(id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="empty-state">
            <p>"There is no store called “"{id}"” here. Pick one of the tabs above."</p>
            <ul class="store-links">
                {ctx.entries().into_iter().map(|e| {
                    let id = e.id.clone();
                    view! { <li><button type="button" class="link" on:click=move |_| ctx.nav.go(&id, None)>{e.name}</button></li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// The standalone explorer app: header, then the explorer on routes `/`, `/{store}` and
/// `/{store}/{id}`.
#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(sa_shared::web::load_config);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || Suspend::new(async move { view! { <Shell config=config.await /> } })}
        </Suspense>
    }
}

#[component]
fn Shell(config: RuntimeConfig) -> impl IntoView {
    let session = Session::new(config);
    provide_context(session);
    leptos::task::spawn_local(async move { session.restore().await });
    let sign_out = move |_| leptos::task::spawn_local(async move { session.logout().await });
    view! {
        <Router>
            <header class="app-header explorer-app-header">
                <A href="/" {..} class="brand">"sa explorer"</A>
                <nav aria-label="Main">
                    {move || match session.state() {
                        SessionState::Restoring => view! { <span class="session-state">"…"</span> }.into_any(),
                        SessionState::SignedOut => {
                            let href = session.login_url(&window().location().href().unwrap_or_default());
                            view! { <span class="session-state">"Not signed in"</span><a href=href>"Sign in"</a> }.into_any()
                        }
                        SessionState::SignedIn { user } => view! {
                            <span class="session-state">"Signed in as "<strong>{user.name}</strong><span class="role-badge">{user.roles.join(", ")}</span></span>
                            <button type="button" class="secondary" on:click=sign_out>"Sign out"</button>
                        }.into_any(),
                    }}
                </nav>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <p class="empty-state">"No such page. "<A href="/">"Go to the explorer"</A></p> }>
                    // One route for all three shapes, so opening a model keeps the list as it is.
                    <Route path=path!("/:store?/:id?") view=move || view! { <Routed session=session /> } />
                </Routes>
            </main>
        </Router>
    }
}

/// Binds the explorer's navigation to the URL: `/{store}/{id}`, both optional.
#[component]
fn Routed(session: Session) -> impl IntoView {
    let params = use_params_map();
    let store = Signal::derive(move || params.with(|p| p.get("store")));
    let model = Signal::derive(move || params.with(|p| p.get("id")));
    let navigate = use_navigate();
    let go = Callback::new(move |(s, m): (Option<String>, Option<String>)| {
        let path = match (s, m) {
            (Some(s), Some(m)) => format!("/{}/{}", encode(&s), encode(&m)),
            (Some(s), None) => format!("/{}", encode(&s)),
            _ => "/".to_string(),
        };
        navigate(&path, Default::default());
    });
    provide_context(Nav::new(store, model, go));
    view! { <Explorer session=session /> }
}
