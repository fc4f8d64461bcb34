//! The peer of `editor_size`: the same page with a bare textarea.

#[cfg(target_arch = "wasm32")]
fn main() {
    use leptos::prelude::*;
    let text = RwSignal::new(String::from("{}"));
    leptos::mount::mount_to_body(move || {
        view! {
            <label for="t">"Model"</label>
            <textarea id="t" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
