use leptos::prelude::*;
use sa_shared::{
    config::{Layout, RuntimeConfig},
    web::{
        session::{Session, SessionState},
        url::{use_location, Location},
    },
};

use crate::{
    components::Loading,
    explorer_dialog::ExplorerDialog,
    pages::{
        admin::AdminPage, login::LoginPage, model::ModelPage, new_model::NewModelPage,
        not_found::NotFound, register::RegisterPage, workspace::WorkspacePage,
    },
};

#[component]
pub fn App() -> impl IntoView {
    let config = RwSignal::new(None::<RuntimeConfig>);
    leptos::task::spawn_local(async move { config.set(Some(sa_shared::web::load_config().await)) });
    move || match config.get() {
        None => view! { <Loading what="sa" /> }.into_any(),
        Some(c) => view! { <Root config=c /> }.into_any(),
    }
}

/// The client's pages, by path.
#[derive(Clone, PartialEq)]
enum Page {
    Workspace,
    Login,
    Register,
    New,
    Model { store: String, id: String },
    Admin,
    NotFound,
}

impl Page {
    fn at(segments: &[String]) -> Page {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        match s.as_slice() {
            [] => Page::Workspace,
            ["login"] => Page::Login,
            ["register"] => Page::Register,
            ["new"] => Page::New,
            ["admin"] => Page::Admin,
            ["models", store, id] => Page::Model {
                store: store.to_string(),
                id: id.to_string(),
            },
            _ => Page::NotFound,
        }
    }
}

/// Marks set for the benchmarks in docs/bench/client.md (`performance.mark`).
pub fn mark(name: &str) {
    if let Some(p) = window().performance() {
        let _ = p.mark(name);
    }
}

#[component]
fn Root(config: RuntimeConfig) -> impl IntoView {
    let compact = config.layout == Layout::Compact;
    let session = Session::new(config);
    provide_context(session);
    leptos::task::spawn_local(async move { session.restore().await });
    let explorer_open = RwSignal::new(false);
    let loc = Location::install().follow_links();
    // A page is rebuilt when the path names another page, not when only the query changes.
    let page = Memo::new(move |_| Page::at(&loc.segments()));
    view! {
        <div class="app" class:compact=compact>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header session=session explorer_open=explorer_open />
            <main id="main" tabindex="-1">
                {move || match page.get() {
                    Page::Workspace => view! { <WorkspacePage session=session /> }.into_any(),
                    Page::Login => view! { <LoginPage session=session /> }.into_any(),
                    Page::Register => view! { <RegisterPage session=session /> }.into_any(),
                    Page::New => view! { <NewModelPage session=session /> }.into_any(),
                    Page::Model { store, id } => view! { <ModelPage session=session store_id=store id=id /> }.into_any(),
                    Page::Admin => view! { <AdminPage session=session /> }.into_any(),
                    Page::NotFound => view! { <NotFound /> }.into_any(),
                }}
            </main>
            <ExplorerDialog session=session open=explorer_open />
        </div>
    }
}

/// A header link, marked as the current page when it is.
#[component]
fn NavLink(href: &'static str, children: Children) -> impl IntoView {
    let loc = use_location();
    view! { <a href=href aria-current=move || (loc.path() == href).then_some("page")>{children()}</a> }
}

#[component]
fn Header(session: Session, explorer_open: RwSignal<bool>) -> impl IntoView {
    let signing_out = RwSignal::new(false);
    view! {
        <header class="app-header">
            <a href="/" class="brand">"sa"</a>
            <nav aria-label="Main">
                <NavLink href="/">"Models"</NavLink>
                {move || session.is_signed_in().then(|| view! { <NavLink href="/new">"New model"</NavLink> })}
                {move || session.is_admin().then(|| view! { <NavLink href="/admin">"Users"</NavLink> })}
                <button type="button" id="open-explorer" class="secondary" on:click=move |_| explorer_open.set(true)
                    aria-keyshortcuts="Control+K" title="Open the explorer (Ctrl+K)">
                    "Explorer" <kbd class="shortcut" aria-hidden="true">"Ctrl K"</kbd>
                </button>
            </nav>
            <div class="session" aria-live="polite">
                {move || match session.state() {
                    SessionState::Restoring => view! { <span class="session-state">"Checking sign-in…"</span> }.into_any(),
                    SessionState::SignedOut => view! {
                        <span class="session-state">"Not signed in"</span>
                        <a href="/login" class="button" id="sign-in-link">"Sign in"</a>
                    }.into_any(),
                    SessionState::SignedIn { user } => {
                        let role = best_role(&user.roles);
                        let sign_out = move |_| {
                            signing_out.set(true);
                            leptos::task::spawn_local(async move {
                                session.logout().await;
                                // A fresh page: nothing of the signed-in session (lists, the
                                // explorer's state) survives in memory.
                                let _ = window().location().assign("/login");
                            });
                        };
                        view! {
                            <span class="session-state" id="session-user">
                                <span class="user-name">{user.name.clone()}</span>
                                <span class=format!("badge role-{role}")>{role}</span>
                            </span>
                            <button type="button" id="sign-out" class="secondary" disabled=move || signing_out.get()
                                on:click=sign_out>
                                {move || if signing_out.get() { "Signing out…" } else { "Sign out" }}
                            </button>
                        }.into_any()
                    }
                }}
            </div>
        </header>
    }
}

/// The role a user is shown with: the strongest one they have.
pub fn best_role(roles: &[String]) -> &'static str {
    use sa_shared::auth::Role;
    roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .max()
        .map(Role::as_str)
        .unwrap_or("no role")
}
