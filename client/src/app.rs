use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};
use sa_shared::{
    config::{Layout, RuntimeConfig},
    web::session::{Session, SessionState},
};

use crate::{
    components::Loading,
    explorer_dialog::ExplorerDialog,
    pages::{
        admin::AdminPage, login::LoginPage, model::ModelPage, new_model::NewModelPage, not_found::NotFound,
        register::RegisterPage, workspace::WorkspacePage,
    },
};

#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(sa_shared::web::load_config);
    view! {
        <Suspense fallback=|| view! { <Loading what="sa" /> }>
            {move || config.get().map(|c| view! { <Root config=c /> })}
        </Suspense>
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
    view! {
        <Router>
            <div class="app" class:compact=compact>
                <a class="skip-link" href="#main">"Skip to content"</a>
                <Header session=session explorer_open=explorer_open />
                <main id="main" tabindex="-1">
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=move || view! { <WorkspacePage session=session /> } />
                        <Route path=path!("/login") view=move || view! { <LoginPage session=session /> } />
                        <Route path=path!("/register") view=move || view! { <RegisterPage session=session /> } />
                        <Route path=path!("/new") view=move || view! { <NewModelPage session=session /> } />
                        <Route path=path!("/models/:store/:id") view=move || view! { <ModelPage session=session /> } />
                        <Route path=path!("/admin") view=move || view! { <AdminPage session=session /> } />
                    </Routes>
                </main>
                <ExplorerDialog session=session open=explorer_open />
            </div>
        </Router>
    }
}

#[component]
fn Header(session: Session, explorer_open: RwSignal<bool>) -> impl IntoView {
    let signing_out = RwSignal::new(false);
    view! {
        <header class="app-header">
            <A href="/" attr:class="brand">"sa"</A>
            <nav aria-label="Main">
                <A href="/" exact=true>"Models"</A>
                <Show when=move || session.is_signed_in()>
                    <A href="/new">"New model"</A>
                </Show>
                <Show when=move || session.is_admin()>
                    <A href="/admin">"Users"</A>
                </Show>
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
                        <A href="/login" attr:class="button" attr:id="sign-in-link">"Sign in"</A>
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
    roles.iter().filter_map(|r| Role::parse(r)).max().map(Role::as_str).unwrap_or("no role")
}
