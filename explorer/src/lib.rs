//! The model explorer: one tab per storage system. A component for the client's pop-over and
//! for the standalone app on `explorer.D`.
#![forbid(unsafe_code)]

use leptos::prelude::*;
use sa_shared::config::RuntimeConfig;

/// Browses the models of every configured store.
///
/// `on_pick` receives the picked model as `(store id, model id)`; without it, picking opens the
/// model inside the explorer. `compact` is the narrow layout used in the pop-over.
#[component]
pub fn Explorer(
    config: RuntimeConfig,
    #[prop(optional, into)] on_pick: Option<Callback<(String, String)>>,
    #[prop(optional)] compact: bool,
) -> impl IntoView {
    let _ = on_pick;
    let tabs = config.stores.clone();
    let (active, set_active) = signal(tabs.first().map(|s| s.id.clone()).unwrap_or_default());
    let login = format!("{}/login", config.client_url);
    view! {
        <section class="explorer" class:compact=compact aria-label="Model explorer">
            <div role="tablist" aria-label="Storage systems" class="tabs">
                {tabs.into_iter().map(|s| {
                    let id = s.id.clone();
                    let id2 = s.id.clone();
                    view! {
                        <button role="tab" class="tab" id=format!("tab-{}", s.id)
                            aria-selected=move || (active.get() == id).to_string()
                            on:click=move |_| set_active.set(id2.clone())>
                            {s.name}
                        </button>
                    }
                }).collect_view()}
            </div>
            <div role="tabpanel" class="panel">
                <p class="empty-state">"Not signed in. "<a href=login>"Sign in"</a>" to browse the models."</p>
            </div>
        </section>
    }
}

/// The standalone explorer app: header, then the explorer.
#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(sa_shared::web::load_config);
    view! {
        <header class="app-header">
            <a class="brand" href="/">"sa explorer"</a>
            <nav aria-label="Main"><span class="session-state">"Not signed in"</span></nav>
        </header>
        <main id="main">
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || config.get().map(|c| view! { <Explorer config=c /> })}
            </Suspense>
        </main>
    }
}
