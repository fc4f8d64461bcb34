//! The editor's parts as the apps load them: one split point each (`split` feature), shared
//! by the client's model page and the explorer (on its own, and inside the client's pop-over).
//!
//! Defined once here rather than in each app: the client holds both apps' code, and two split
//! points with the same body made the splitter cut that body into chunks shared by the pair,
//! each a file of its own with its own digest in the loader (BENCHMARKS.md, issue 14).
use leptos::prelude::*;
use sa_shared::{config::StoreEntry, web::session::Session};

use crate::{HistoryPanel, MergeView};

/// `Ok(Some((merged text, summary)))` for a clean merge, `Ok(None)` when paths conflict
/// ([`crate::merge::merge_texts`]).
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn three_way(
    base: String,
    theirs: String,
    mine: String,
) -> Result<Option<(String, String)>, String> {
    crate::merge::merge_texts(&base, &theirs, &mine)
}

/// The conflicts of a three-way merge, one choice per path; `on_resolved` gets the text to save.
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn merge_dialog(
    base: String,
    theirs: String,
    mine: String,
    on_resolved: Callback<String>,
) -> AnyView {
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap_or_default();
    view! {
        <MergeView
            base=parse(&base)
            theirs=parse(&theirs)
            mine=parse(&mine)
            on_resolved=move |v: serde_json::Value| {
                on_resolved.run(serde_json::to_string_pretty(&v).unwrap_or_default())
            }
        />
    }
    .into_any()
}

/// A model's History panel ([`HistoryPanel`]).
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn history_view(
    session: Session,
    store: StoreEntry,
    id: String,
    can_write: Signal<bool>,
    current: Signal<String>,
    on_restored: Callback<String>,
) -> AnyView {
    view! {
        <HistoryPanel session=session store=store id=id can_write=can_write current=current on_restored=on_restored />
    }
    .into_any()
}
