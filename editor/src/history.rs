//! [`HistoryPanel`]: a model's kept versions, to view, diff against the current document, and
//! restore.
use leptos::prelude::*;
use sa_shared::{
    config::StoreEntry,
    history::Version,
    web::{session::Session, store_api},
};
use serde_json::Value;

use crate::views::DiffView;
use crate::JsonEditor;

/// Versions listed per page.
const PAGE: u32 = 50;

/// What is open under one version's row.
#[derive(Clone, PartialEq)]
enum Shown {
    Nothing,
    Loading,
    Text(String),
    Diff(Value, Value),
    Error(String),
}

/// The versions of model `id` in `store`, newest first, with who saved each, when, its size
/// and what the write did. Each can be viewed, diffed against `current`, and, when `can_write`,
/// restored. A reader sees no Restore.
#[component]
pub fn HistoryPanel(
    session: Session,
    store: StoreEntry,
    #[prop(into)] id: String,
    #[prop(into)] can_write: Signal<bool>,
    /// The stored document's text. The list reloads when it changes (a save, a restore, a
    /// newer version from the feed); diffs compare against it.
    #[prop(into)]
    current: Signal<String>,
    /// Called with the new ETag after a restore.
    #[prop(into)]
    on_restored: Callback<String>,
) -> impl IntoView {
    let store = StoredValue::new(store);
    let id = StoredValue::new(id);
    let versions = LocalResource::new(move || {
        current.track();
        async move {
            store_api::versions(session, &store.get_value(), &id.get_value(), None, PAGE).await
        }
    });
    let restoring = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);

    let restore = move |etag: String| {
        restoring.set(Some(etag.clone()));
        failed.set(None);
        leptos::task::spawn_local(async move {
            match store_api::restore(session, &store.get_value(), &id.get_value(), &etag, None)
                .await
            {
                Ok(new_tag) => on_restored.run(new_tag),
                Err(e) => failed.set(Some(format!("Could not restore that version: {e}"))),
            }
            restoring.set(None);
        });
    };

    let rows = move |items: Vec<Version>| {
        let newest = items.first().map(|v| v.etag.clone());
        items
            .into_iter()
            .enumerate()
            .map(|(n, v)| {
                let shown = RwSignal::new(Shown::Nothing);
                let etag = StoredValue::new(v.etag.clone());
                let is_current = newest.as_deref() == Some(v.etag.as_str())
                    && v.op != sa_shared::history::Op::Deleted;
                let fetch = move |diff: bool| {
                    shown.set(Shown::Loading);
                    leptos::task::spawn_local(async move {
                        let got = store_api::version(
                            session,
                            &store.get_value(),
                            &id.get_value(),
                            &etag.get_value(),
                        )
                        .await;
                        shown.set(match got {
                            Err(e) => Shown::Error(format!("Could not load that version: {e}")),
                            Ok(f) if !diff => Shown::Text(f.doc.pretty()),
                            Ok(f) => {
                                let old = serde_json::from_str::<Value>(f.doc.text());
                                let new = current.with_untracked(|t| serde_json::from_str::<Value>(t));
                                match (old, new) {
                                    (Ok(old), Ok(new)) => Shown::Diff(old, new),
                                    _ => Shown::Error("One of the documents is not JSON.".into()),
                                }
                            }
                        });
                    });
                };
                let label = StoredValue::new(format!("Version {} by {}", n + 1, v.by.name));
                let label = move || label.get_value();
                view! {
                    <li class="history-version" data-etag=v.etag.clone()>
                        <div class="history-row">
                            <span class="history-who">{v.by.name.clone()}</span>
                            <span class="history-op">{v.op.as_str()}</span>
                            <time class="history-when" datetime=v.updated.clone()>{when(&v.updated)}</time>
                            <span class="history-size">{size(v.size)}</span>
                            {is_current.then(|| view! { <span class="badge">"current"</span> })}
                            <span class="history-actions">
                                <button type="button" class="secondary history-view"
                                    aria-label=format!("View {}", label())
                                    on:click=move |_| fetch(false)>"View"</button>
                                <button type="button" class="secondary history-diff"
                                    aria-label=format!("Diff {} with the current version", label())
                                    on:click=move |_| fetch(true)>"Diff with current"</button>
                                {move || (can_write.get() && !is_current).then(|| view! {
                                    <button type="button" class="history-restore"
                                        aria-label=format!("Restore {}", label())
                                        disabled=move || restoring.with(Option::is_some)
                                        on:click=move |_| restore(etag.get_value())>
                                        {move || if restoring.with(|r| r.as_deref() == Some(etag.get_value().as_str())) { "Restoring…" } else { "Restore" }}
                                    </button>
                                })}
                            </span>
                        </div>
                        {move || match shown.get() {
                            Shown::Nothing => ().into_any(),
                            Shown::Loading => view! { <p class="loading" role="status">"Loading the version…"</p> }.into_any(),
                            Shown::Error(m) => view! { <p class="notice error" role="alert">{m}</p> }.into_any(),
                            Shown::Text(t) => view! {
                                <div class="history-shown">
                                    <JsonEditor text=Signal::derive(move || t.clone()) label=format!("{} (read-only)", label()) read_only=true />
                                    <button type="button" class="secondary" on:click=move |_| shown.set(Shown::Nothing)>"Close"</button>
                                </div>
                            }.into_any(),
                            Shown::Diff(old, new) => view! {
                                <div class="history-shown">
                                    <DiffView old=old new=new label=format!("Changes from {} to the current version", label()) />
                                    <button type="button" class="secondary" on:click=move |_| shown.set(Shown::Nothing)>"Close"</button>
                                </div>
                            }.into_any(),
                        }}
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <section class="history-panel" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {move || failed.get().map(|m| view! { <p class="notice error" role="alert">{m}</p> })}
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the history…"</p> }>
                {move || Suspend::new(async move {
                    match versions.await {
                        Err(e) => view! {
                            <p class="notice error" role="alert">{format!("Could not load the history: {e}")}</p>
                            <button type="button" class="secondary" on:click=move |_| versions.refetch()>"Try again"</button>
                        }.into_any(),
                        Ok(page) if page.items.is_empty() => view! {
                            <p class="history-empty">"No versions are kept for this model."</p>
                        }.into_any(),
                        Ok(page) => view! {
                            <ol class="history-list" aria-label="Versions, newest first">{rows(page.items)}</ol>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `2026-12-01T09:00:00Z` as `2026-12-01 09:00:00 UTC`.
fn when(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((day, time)) => {
            let time = time.trim_end_matches('Z');
            let time = time.split('.').next().unwrap_or(time);
            format!("{day} {time} UTC")
        }
        None => rfc3339.to_string(),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..=999 => format!("{bytes} B"),
        1_000..=999_999 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}
