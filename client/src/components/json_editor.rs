//! A JSON text editor that checks the syntax as the user types and says where it breaks.
use leptos::prelude::*;
use sa_shared::web::doc::Doc;

/// The outcome of checking the editor's text with [`Doc::parse_model`]: the document, or
/// where and why it is not a model.
pub type Checked = Result<Doc, String>;

#[component]
pub fn JsonEditor(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    text: RwSignal<String>,
    checked: Memo<Checked>,
    #[prop(into)] readonly: Signal<bool>,
) -> impl IntoView {
    let status_id = format!("{id}-status");
    view! {
        <div class="json-editor">
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                class="code"
                spellcheck="false"
                autocomplete="off"
                autocapitalize="off"
                rows="18"
                aria-describedby=status_id.clone()
                aria-invalid=move || checked.with(|c| c.is_err()).to_string()
                readonly=move || readonly.get()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <p id=status_id class="editor-status" class:invalid=move || checked.with(|c| c.is_err()) aria-live="polite">
                {move || checked.with(|c| match c {
                    Ok(_) => "✓ Valid JSON".to_string(),
                    Err(e) => format!("✗ {e}"),
                })}
            </p>
        </div>
    }
}
