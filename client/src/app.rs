use leptos::prelude::*;

use crate::explorer_dialog::ExplorerDialog;

#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(sa_shared::web::load_config);
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || config.get().map(|c| view! { <Shell config=c /> })}
        </Suspense>
    }
}

#[component]
fn Shell(config: sa_shared::config::RuntimeConfig) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <header class="app-header">
            <a class="brand" href="/">"sa"</a>
            <nav aria-label="Main">
                <a href="/">"Models"</a>
                <button type="button" id="open-explorer" class="secondary" on:click=move |_| open.set(true) aria-keyshortcuts="Control+K">
                    "Explorer"
                </button>
                <span class="session-state">"Not signed in"</span>
            </nav>
        </header>
        <main id="main">
            <section class="card">
                <h1>"Your models"</h1>
                <p class="empty-state">"You are not signed in. Sign in to see and edit your models."</p>
            </section>
        </main>
        <ExplorerDialog config=config open=open />
    }
}
