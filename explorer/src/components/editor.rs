//! The JSON text editor for a model: it checks the text parses before handing it on. A split
//! point (`split` feature): only writers who press "Edit" or "New model" download it.
use leptos::prelude::*;
use sa_shared::web::doc::Doc;

/// The editor as a view, loaded on first use in a split build.
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn editor(
    initial: String,
    save: Callback<Doc>,
    cancel: Callback<()>,
    busy: RwSignal<bool>,
    error: Signal<Option<String>>,
    save_label: &'static str,
) -> AnyView {
    view! { <Editor initial=initial save=save cancel=cancel busy=busy error=error save_label=save_label /> }
        .into_any()
}

/// A JSON text editor that checks the text parses before handing it on.
#[component]
pub fn Editor(
    initial: String,
    save: Callback<Doc>,
    cancel: Callback<()>,
    busy: RwSignal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
    save_label: &'static str,
) -> impl IntoView {
    let text = RwSignal::new(initial);
    let parse_error = RwSignal::new(None::<String>);
    // The view is built inside a `Suspend` (the editor may be a lazy chunk), so its render
    // effects can run once more in the update that closes the editor, after these signals
    // went: hence the `try_` reads below.
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        match Doc::parse_model(&text.get_untracked()) {
            Ok(doc) => {
                parse_error.set(None);
                save.run(doc);
            }
            Err(e) => parse_error.set(Some(format!("{e} Fix it and save again."))),
        }
    };
    view! {
        <form class="editor" on:submit=submit>
            <label for="model-json">"Document (JSON)"</label>
            <textarea id="model-json" class="json-input" spellcheck="false" rows="16"
                aria-invalid=move || parse_error.try_with(Option::is_some).unwrap_or(false).to_string()
                aria-describedby="editor-error"
                prop:value=move || text.try_get().unwrap_or_default() on:input=move |e| text.set(event_target_value(&e))></textarea>
            <p id="editor-error" class="error" role="alert">{move || parse_error.try_get().flatten().or_else(|| error.try_get().flatten())}</p>
            <div class="editor-buttons">
                <button type="submit" class="save" disabled=move || busy.get()>{save_label}</button>
                <button type="button" class="secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}
