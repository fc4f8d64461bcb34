//! What a user can do with the open model: copy its URL, share it, edit or delete it (writers),
//! and copy or move it to another store. A move deletes the source only after the target
//! store has confirmed the write, so a failure in between leaves a copy, never a loss.
use leptos::prelude::*;
use sa_shared::web::{doc::Doc, store_api};

use crate::{
    components::{
        editor::editor,
        merge::{merge_dialog, merge_edit, save as save_text, MergeInput, Merged},
    },
    dom::copy_text,
    state::{Ctx, Loaded, StoreSlot},
};

/// The outcome of the last action, announced to screen readers.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    None,
    Info(String),
    Error(String),
}

#[component]
pub fn Actions(
    tab: StoreSlot,
    id: String,
    loaded: RwSignal<Option<Loaded>>,
    editing: RwSignal<bool>,
    reload: Callback<()>,
    /// Filled with "merge the open edit into the stored version", for the live notice.
    merge_hook: RwSignal<Option<Callback<()>>>,
    /// Told when a merge starts: a notice about the newer version is moot then.
    on_merge: Callback<()>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let store = StoredValue::new(tab.entry.clone());
    let url = StoredValue::new(store_api::model_url(&tab.entry, &id));
    let id = StoredValue::new(id);
    let notice = RwSignal::new(Notice::None);
    let shared = RwSignal::new(None::<(String, u64)>);
    let confirm_delete = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let conflict = RwSignal::new(false);
    // The editor's text as the user has it now, and a merge waiting for the user's choices.
    let draft = RwSignal::new(None::<String>);
    let merging = RwSignal::new(None::<MergeInput>);
    let targets: Vec<_> = ctx
        .entries()
        .into_iter()
        .filter(|e| e.id != tab.entry.id)
        .collect();
    let target = RwSignal::new(targets.first().map(|t| t.id.clone()).unwrap_or_default());

    let copy_url = move |_| {
        let u = url.get_value();
        leptos::task::spawn_local(async move {
            let n = match copy_text(&u).await {
                Ok(()) => Notice::Info("Model URL copied.".into()),
                Err(()) => Notice::Info(format!("Copy this URL: {u}")),
            };
            notice.try_set(n);
        });
    };

    let share = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = store_api::share(ctx.session, &url.get_value()).await;
            busy.try_set(false);
            match r {
                Ok(s) => {
                    let copied = copy_text(&s.url).await.is_ok();
                    shared.try_set(Some((s.url, s.expires_in)));
                    let msg = if copied {
                        "Share link copied. Anyone with it can read this model until it expires."
                    } else {
                        "Share link ready: copy it from the box."
                    };
                    notice.try_set(Notice::Info(msg.into()));
                }
                Err(e) => {
                    notice.try_set(Notice::Error(format!("No share link: {e}")));
                }
            }
        });
    };

    let delete = move |_| {
        busy.set(true);
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let r = store_api::delete(ctx.session, &store, &id.get_value()).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            busy.try_set(false);
            match r {
                Ok(()) => {
                    ctx.bump(&store.id);
                    ctx.nav.go(&store.id, None);
                }
                Err(e) => {
                    confirm_delete.try_set(false);
                    notice.try_set(Notice::Error(format!("Not deleted: {e}")));
                }
            }
        });
    };

    let transfer = move |remove_source: bool| {
        let Some(l) = loaded.get_untracked() else {
            return;
        };
        let Some(to) = ctx.slot(&target.get_untracked()) else {
            return;
        };
        let from = store.get_value();
        busy.set(true);
        notice.set(Notice::Info(format!(
            "{} to {}…",
            if remove_source { "Moving" } else { "Copying" },
            to.entry.name
        )));
        leptos::task::spawn_local(async move {
            let created = store_api::create(ctx.session, &to.entry, &l.doc).await;
            ctx.observe(&to.entry.id, created.as_ref().map(|_| ()));
            let created = match created {
                Ok(c) => c,
                Err(e) => {
                    busy.try_set(false);
                    notice.try_set(Notice::Error(format!(
                        "Nothing changed: {} did not take the copy. {e}",
                        to.entry.name
                    )));
                    return;
                }
            };
            ctx.bump(&to.entry.id);
            if !remove_source {
                busy.try_set(false);
                notice.try_set(Notice::Info(format!(
                    "Copied to {} as {}.",
                    to.entry.name, created.id
                )));
                return;
            }
            // The target holds the model now; only then does the source go.
            let deleted = store_api::delete(ctx.session, &from, &id.get_value()).await;
            busy.try_set(false);
            match deleted {
                Ok(()) => {
                    ctx.bump(&from.id);
                    ctx.nav.go(&to.entry.id, Some(created.id));
                }
                Err(e) => {
                    let msg = format!(
                        "Copied to {} as {}, but the original here could not be deleted: {e}. Delete it by hand once {} answers.",
                        to.entry.name, created.id, from.name
                    );
                    notice.try_set(Notice::Error(msg));
                }
            }
        });
    };

    // Ends an edit with the stored version it became.
    let saved = move |l: Loaded, message: String| {
        loaded.try_set(Some(l));
        editing.try_set(false);
        merging.try_set(None);
        draft.try_set(None);
        ctx.bump(&store.with_value(|s| s.id.clone()));
        notice.try_set(Notice::Info(message));
    };
    // Merges the edit `mine` into the stored version (after a 412, or from the live notice).
    let merge = move |mine: String| {
        let Some(l) = loaded.get_untracked() else {
            return;
        };
        busy.set(true);
        conflict.set(false);
        on_merge.run(());
        notice.set(Notice::Info(
            "Someone saved a newer version: merging your edit into it…".into(),
        ));
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let outcome = merge_edit(ctx.session, &store, &id.get_value(), &l.etag, mine).await;
            busy.try_set(false);
            match outcome {
                Merged::Saved(l, summary) => saved(l, format!("Merged and saved: {summary}.")),
                Merged::Conflicts(input) => {
                    notice.try_set(Notice::Info(
                        "You and they changed the same places: choose for each one below.".into(),
                    ));
                    merging.try_set(Some(input));
                }
                Merged::NoBase => {
                    conflict.try_set(true);
                    let msg = "Someone changed this model since you opened it, and the version you started from is no longer kept. Reload to see their version, then edit again (copy your text first).";
                    notice.try_set(Notice::Error(msg.into()));
                }
                Merged::Failed(e) => {
                    notice.try_set(Notice::Error(e));
                }
            }
        });
    };
    merge_hook.set(Some(Callback::new(move |_| match draft.get_untracked() {
        Some(mine) => merge(mine),
        // Nothing typed yet: there is nothing of the user's to merge; show theirs.
        None => {
            on_merge.run(());
            editing.set(false);
            reload.run(());
        }
    })));
    let resolved = Callback::new(move |text: String| {
        let Some(input) = merging.get_untracked() else {
            return;
        };
        busy.set(true);
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let r = save_text(
                ctx.session,
                &store,
                &id.get_value(),
                &text,
                &input.theirs.etag,
            )
            .await;
            busy.try_set(false);
            match r {
                Ok(l) => saved(l, "Saved with your choices.".into()),
                Err(e) => {
                    notice.try_set(Notice::Error(e));
                }
            }
        });
    });

    let save = Callback::new(move |doc: Doc| {
        let Some(l) = loaded.get_untracked() else {
            return;
        };
        busy.set(true);
        conflict.set(false);
        let store = store.get_value();
        leptos::task::spawn_local(async move {
            let r = store_api::put(ctx.session, &store, &id.get_value(), &doc, &l.etag).await;
            ctx.observe(&store.id, r.as_ref().map(|_| ()));
            busy.try_set(false);
            match r {
                Ok(etag) => {
                    let size = doc.text().len();
                    saved(Loaded { doc, etag, size }, "Saved.".into());
                }
                Err(e) if e.status == 412 => merge(doc.text().to_string()),
                Err(e) => {
                    notice.try_set(Notice::Error(format!("Not saved: {e}")));
                }
            }
        });
    });
    let edit_error = Signal::derive(move || match notice.get() {
        Notice::Error(e) if editing.get() => Some(e),
        _ => None,
    });
    let pretty =
        move || loaded.with_untracked(|l| l.as_ref().map(|l| l.doc.pretty()).unwrap_or_default());
    let writer = move || ctx.session.can_write();
    let has_targets = !targets.is_empty();
    let pick = ctx
        .on_pick
        .map(|p| move |_| p.run((store.get_value().id, id.get_value())));
    let store_name = store.with_value(|s| s.name.clone());

    view! {
        <div class="ex-actions" role="toolbar" aria-label="Model actions">
            {pick.map(|pick| view! { <button type="button" class="pick" on:click=pick>"Use this model"</button> })}
            <button type="button" class="secondary copy-url" on:click=copy_url>"Copy URL"</button>
            <button type="button" class="secondary share" on:click=share disabled=move || busy.get()>"Share link"</button>
            {move || writer().then(|| view! {
                <button type="button" class="secondary edit" on:click=move |_| { notice.set(Notice::None); editing.set(true) } disabled=move || editing.get()>"Edit"</button>
                <button type="button" class="secondary danger delete" on:click=move |_| confirm_delete.set(true) disabled=move || busy.get()>"Delete"</button>
            })}
        </div>
        {move || (writer() && has_targets).then(|| view! {
            <div class="transfer" role="group" aria-label="Copy or move to another store">
                <label>
                    "To "
                    <select class="transfer-target" on:change=move |e| target.set(event_target_value(&e)) prop:value=move || target.get()>
                        {targets.iter().map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" class="secondary copy-to" disabled=move || busy.get() on:click=move |_| transfer(false)>"Copy"</button>
                <button type="button" class="secondary move-to" disabled=move || busy.get() on:click=move |_| transfer(true)>"Move"</button>
            </div>
        })}
        {move || confirm_delete.get().then(|| view! {
            <div class="confirm" role="alertdialog" aria-label="Confirm delete">
                <p>"Delete this model from "{store_name.clone()}"? This can't be undone."</p>
                <button type="button" class="danger confirm-delete" on:click=delete disabled=move || busy.get()>"Delete"</button>
                <button type="button" class="secondary" on:click=move |_| confirm_delete.set(false)>"Cancel"</button>
            </div>
        })}
        {move || shared.get().map(|(u, secs)| view! {
            <div class="share-box">
                <label>
                    {format!("Share link (valid for {} min)", secs.div_ceil(60))}
                    <input type="text" class="share-url" readonly prop:value=u on:focus=move |e| { event_target::<web_sys::HtmlInputElement>(&e).select(); } />
                </label>
            </div>
        })}
        <p class="ex-notice" role="status" aria-live="polite">
            {move || match notice.get() {
                Notice::None => ().into_any(),
                Notice::Info(s) => view! { <span class="ok">{s}</span> }.into_any(),
                Notice::Error(s) => view! { <span class="error">{s}</span> }.into_any(),
            }}
            {move || conflict.get().then(|| view! {
                " "
                <button type="button" class="link" on:click=move |_| { editing.set(false); conflict.set(false); notice.set(Notice::None); reload.run(()) }>"Reload"</button>
            })}
        </p>
        {move || merging.get().map(|input| view! {
            <section class="ex-merge" aria-labelledby="merge-title">
                <h3 id="merge-title">"Their version and yours"</h3>
                <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the merge…"</p> }>
                    {
                        let input = input.clone();
                        move || Suspend::new(merge_dialog(input.clone(), resolved))
                    }
                </Suspense>
                <button type="button" class="secondary merge-cancel" on:click=move |_| { merging.set(None); notice.set(Notice::None); }>"Keep editing"</button>
            </section>
        })}
        <Show when=move || editing.get()>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading the editor…"</p> }>
                {move || {
                    let cancel = Callback::new(move |_| { editing.set(false); merging.set(None); draft.set(None); notice.set(Notice::None); });
                    Suspend::new(editor(pretty(), save, cancel, busy, edit_error, "Save", draft))
                }}
            </Suspense>
        </Show>
    }
}
