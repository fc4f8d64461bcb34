//! A JSON text editor that checks the syntax as the user types and says where it breaks.
use leptos::prelude::*;
use serde_json::Value;

/// The outcome of checking the editor's text: the document, or where and why it is invalid.
pub type Checked = Result<Value, String>;

/// Models are JSON objects (the store refuses anything else), so that is checked too.
pub fn check(text: &str) -> Checked {
    if text.trim().is_empty() {
        return Err("The document is empty. A model is a JSON object, e.g. {\"name\": \"My model\"}.".to_string());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("A model must be a JSON object: wrap it in { … }.".to_string()),
        Err(e) => Err(format!("Line {}, column {}: {}.", e.line(), e.column(), describe(&e))),
    }
}

/// serde_json's message without its own " at line X column Y" suffix (we say that first), in
/// words for people who don't know what EOF means.
fn describe(e: &serde_json::Error) -> String {
    if e.classify() == serde_json::error::Category::Eof {
        return "the text ends too early: a closing }, ] or \" is missing".to_string();
    }
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Pretty-prints a document the way the editor shows it.
pub fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
}

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
