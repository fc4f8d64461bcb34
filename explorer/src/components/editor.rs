//! The JSON text editor for a model (sa-editor's `JsonEditor`: highlighting, line numbers,
//! the error's place), checking the text parses before handing it on. A split point (`split`
//! feature): only writers who press "Edit" or "New model" download it.
use leptos::prelude::*;
use sa_editor::JsonEditor;
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
    draft: RwSignal<Option<String>>,
) -> AnyView {
    // "New model" reaches the editor without the model view, which adds them too.
    sa_shared::web::stylesheets(&["model-view", "editor"]).await;
    view! { <Editor initial=initial save=save cancel=cancel busy=busy error=error save_label=save_label draft=draft /> }
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
    /// Follows the text as the user edits it (`None` until the first edit).
    #[prop(optional)]
    draft: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    // The editor shows `initial` (pretty-printed); `text` follows its edits.
    let text = RwSignal::new(initial.clone());
    let shown = Signal::stored(initial);
    let parse_error = RwSignal::new(None::<String>);
    // The view is built inside a `Suspend` (the editor may be a lazy chunk), so its render
    // effects can run once more in the update that closes the editor, after these signals
    // went: hence the `try_` reads below.
    let check_and_save = move || {
        if busy.get_untracked() {
            return;
        }
        match Doc::parse_model(&text.get_untracked()) {
            Ok(doc) => {
                parse_error.set(None);
                save.run(doc);
            }
            Err(e) => parse_error.set(Some(format!("{e} Fix it and save again."))),
        }
    };
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        check_and_save();
    };
    view! {
        <form class="editor" on:submit=submit>
            <JsonEditor text=shown label="Document (JSON)" id="model-json"
                on_change=move |t: String| {
                    if let Some(d) = draft {
                        d.try_set(Some(t.clone()));
                    }
                    text.try_set(t);
                }
                on_save=move |t: String| { text.try_set(t); check_and_save(); } />
            <p id="editor-error" class="error" role="alert">{move || parse_error.try_get().flatten().or_else(|| error.try_get().flatten())}</p>
            <div class="editor-buttons">
                <button type="submit" class="save" disabled=move || busy.get()>{save_label}</button>
                <button type="button" class="secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}
