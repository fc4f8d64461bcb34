//! A save that the store refuses (412: someone saved a newer version) becomes a three-way
//! merge, as in the client: base is the version the edit started from (from history, by its
//! ETag), theirs is the stored version, mine is the edit. A clean merge saves itself with the
//! current ETag; conflicts go to sa-editor's `MergeView`. Both are sa-editor's split points
//! (`sa_editor::lazy`): the merge code loads when a merge happens.
use leptos::prelude::*;
use sa_shared::{
    config::StoreEntry,
    web::{doc::Doc, session::Session, store_api},
};

use sa_editor::lazy::three_way;

use crate::state::Loaded;

/// The three texts of a merge that needs the user's choices, and the stored version.
#[derive(Clone)]
pub struct MergeInput {
    pub base: String,
    pub theirs: Loaded,
    pub mine: String,
}

/// What became of an edit merged into the stored version.
pub enum Merged {
    /// Saved; the new stored version and the summary of what was combined.
    Saved(Loaded, String),
    /// Paths changed on both sides: the user chooses.
    Conflicts(MergeInput),
    /// History no longer keeps the version the edit started from.
    NoBase,
    Failed(String),
}

/// Merges `mine` (an edit of the version `started_from`) into the stored version.
pub async fn merge_edit(
    session: Session,
    store: &StoreEntry,
    id: &str,
    started_from: &str,
    mine: String,
) -> Merged {
    let latest = match store_api::get(session, store, id).await {
        Ok(l) => l,
        Err(e) => return Merged::Failed(format!("The newer version could not be read: {e}")),
    };
    let Ok(base) = store_api::version(session, store, id, started_from).await else {
        return Merged::NoBase;
    };
    let base = base.doc.text().to_string();
    match three_way(base.clone(), latest.doc.text().to_string(), mine.clone()).await {
        Err(e) => Merged::Failed(e),
        Ok(None) => Merged::Conflicts(MergeInput {
            base,
            theirs: latest,
            mine,
        }),
        Ok(Some((text, summary))) => match save(session, store, id, &text, &latest.etag).await {
            Ok(saved) => Merged::Saved(saved, summary),
            Err(e) => Merged::Failed(e),
        },
    }
}

/// Saves `text` over the version `etag`; the stored version it becomes.
pub async fn save(
    session: Session,
    store: &StoreEntry,
    id: &str,
    text: &str,
    etag: &str,
) -> Result<Loaded, String> {
    let doc = Doc::parse_model(text)?;
    match store_api::put(session, store, id, &doc, etag).await {
        Ok(etag) => Ok(Loaded {
            size: doc.text().len(),
            doc,
            etag,
        }),
        Err(e) if e.status == 412 => {
            Err("Someone saved yet another version meanwhile; save again to merge with it.".into())
        }
        Err(e) => Err(format!("Not saved: {e}")),
    }
}

/// The conflicts of `input`, one choice per path; `on_resolved` gets the text to save.
pub async fn merge_dialog(input: MergeInput, on_resolved: Callback<String>) -> AnyView {
    sa_editor::lazy::merge_dialog(
        input.base,
        input.theirs.doc.text().to_string(),
        input.mine,
        on_resolved,
    )
    .await
}
