use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, Lazy,
};
use sa_shared::{
    auth::Role,
    config::{Layout, RuntimeConfig},
    web::session::{Session, SessionState},
};

use crate::{
    components::Loading,
    explorer_dialog::ExplorerDialog,
    pages::{
        admin::AdminRoute, login::LoginPage, model::ModelRoute, new_model::NewModelRoute,
        not_found::NotFound, register::RegisterRoute, workspace::WorkspacePage,
    },
};

#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(sa_shared::web::load_config);
    view! {
        <Suspense fallback=|| view! { <Loading what="sa" /> }>
            {move || Suspend::new(async move { view! { <Root config=config.await /> } })}
        </Suspense>
    }
}

#[component]
fn Root(config: RuntimeConfig) -> impl IntoView {
    let compact = config.layout == Layout::Compact;
    let session = Session::new(config);
    provide_context(session);
    leptos::task::spawn_local(async move { session.restore().await });
    let explorer_open = RwSignal::new(false);
    // The pages that the first view does not need are `Lazy` routes: with the `split` feature
    // each is its own wasm chunk, fetched when the route is first visited.
    view! {
        <Router>
            <div class="app" class:compact=compact>
                // `rel=external`: the browser, not the router, follows it, and so moves the focus.
                <a class="skip-link" href="#main" rel="external">"Skip to content"</a>
                <Header session=session explorer_open=explorer_open />
                <main id="main" tabindex="-1">
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=move || view! { <WorkspacePage session=session /> } />
                        <Route path=path!("/login") view=move || view! { <LoginPage session=session /> } />
                        <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} />
                        <Route path=path!("/new") view={Lazy::<NewModelRoute>::new()} />
                        <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} />
                        <Route path=path!("/models/:store/:id") view={Lazy::<ModelRoute>::new()} />
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
            <a href="/" class="brand">"sa"</a>
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
                        <A href="/login" {..} class="button" id="sign-in-link">"Sign in"</A>
                    }.into_any(),
                    SessionState::SignedIn { user } => {
                        let role = Role::strongest(&user.roles).map_or("no role", Role::as_str);
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
