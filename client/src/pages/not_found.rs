//! Any other path.
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. " <a href="/">"Go to your models"</a> "."</p>
        </section>
    }
}
