//! JsonEditor mounted alone, to size the component against `editor_size_baseline` (the same
//! page with a bare textarea):
//! `cargo build --release -p sa-editor --features web --target wasm32-unknown-unknown
//! --example editor_size --example editor_size_baseline`.

#[cfg(target_arch = "wasm32")]
fn main() {
    use leptos::prelude::*;
    let text = RwSignal::new(String::from("{}"));
    leptos::mount::mount_to_body(move || {
        view! { <sa_editor::JsonEditor text=text label="Model" on_save=move |t: String| text.set(t) /> }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
