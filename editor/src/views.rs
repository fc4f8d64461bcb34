//! [`DiffView`] and [`MergeView`]: the diff of two documents and the three-way merge, as the
//! apps show them.
use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::Value;

use crate::diff::{diff, Kind};
use crate::merge::{merge, resolve, Choice};

/// Longest value text shown on one diff line.
const SHOWN: usize = 120;

/// The changes from `old` to `new`, one line per JSON path. Each line starts with its marker
/// (`+` added, `−` removed, `~` changed) and names its kind for screen readers, so colour
/// only helps.
#[component]
pub fn DiffView(
    /// The earlier document.
    old: Value,
    /// The later document.
    new: Value,
    /// The list's accessible name, e.g. "Changes from your edit to theirs".
    #[prop(into)]
    label: String,
    /// The list's id.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let lines = diff(&old, &new);
    if lines.is_empty() {
        return view! { <p class="diff-none" id=id>"No differences."</p> }.into_any();
    }
    let items = lines
        .into_iter()
        .map(|line| {
            let word = match line.kind {
                Kind::Added => "added: ",
                Kind::Removed => "removed: ",
                Kind::Changed => "changed: ",
            };
            view! {
                <li class=line.kind.class() data-path=line.path.clone()>
                    <span class="visually-hidden">{word}</span>
                    {line.render(SHOWN)}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="diff" id=id aria-label=label>{items}</ul> }.into_any()
}

/// A three-way merge of `mine` and `theirs`, both edited from `base`
/// ([`crate::merge::merge`]; its doc states the rule, arrays included).
///
/// Shows what was combined ("2 changes of yours and 1 of theirs were combined") and, for each
/// conflicting path, base, theirs and mine with a radio group (a `fieldset` whose `legend` is
/// the path) to pick one. The confirm button calls `on_resolved` with the document to save
/// once every conflict has a choice.
#[component]
pub fn MergeView(
    base: Value,
    theirs: Value,
    mine: Value,
    /// Called with the merged document, every conflict settled.
    #[prop(into)]
    on_resolved: Callback<Value>,
    /// The confirm button's text.
    #[prop(optional, into)]
    confirm: Option<String>,
) -> impl IntoView {
    let merged = StoredValue::new(merge(&base, &theirs, &mine));
    let choices = RwSignal::new(BTreeMap::<String, Choice>::new());
    let summary = merged.with_value(|m| m.summary());
    let count = merged.with_value(|m| m.conflicts.len());
    let all_chosen = move || choices.with(|c| c.len()) == count;
    let confirm = confirm.unwrap_or_else(|| {
        if count == 0 {
            "Save the merge".to_string()
        } else {
            "Save with these choices".to_string()
        }
    });

    let conflicts = merged.with_value(|m| {
        m.conflicts
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let path = c.path.clone();
                let shown = if path.is_empty() {
                    "(the whole document)".to_string()
                } else {
                    path.clone()
                };
                let options = [
                    (Choice::Theirs, "Theirs (now in the store)", &c.theirs),
                    (Choice::Mine, "Mine (your edit)", &c.mine),
                    (Choice::Base, "Base (before both edits)", &c.base),
                ]
                .into_iter()
                .map(|(choice, what, value)| {
                    let key = match choice {
                        Choice::Theirs => "theirs",
                        Choice::Mine => "mine",
                        Choice::Base => "base",
                    };
                    let input_id = format!("merge-{n}-{key}");
                    let path = path.clone();
                    let checked = {
                        let path = path.clone();
                        move || choices.with(|c| c.get(&path) == Some(&choice))
                    };
                    view! {
                        <div class="merge-option">
                            <input
                                type="radio"
                                id=input_id.clone()
                                name=format!("merge-{n}")
                                value=key
                                prop:checked=checked
                                on:change=move |_| {
                                    choices.update(|c| {
                                        c.insert(path.clone(), choice);
                                    })
                                }
                            />
                            <label for=input_id>
                                <span class="merge-side">{what}</span>
                                <pre class="merge-value">{show(value)}</pre>
                            </label>
                        </div>
                    }
                })
                .collect_view();
                view! {
                    <fieldset class="merge-conflict" data-path=path.clone()>
                        <legend>
                            <span class="visually-hidden">"Conflict at "</span>
                            <code>{shown}</code>
                        </legend>
                        {options}
                    </fieldset>
                }
            })
            .collect_view()
    });

    let done = move |_| {
        let value = merged.with_value(|m| choices.with_untracked(|c| resolve(m, c)));
        if let Ok(value) = value {
            on_resolved.run(value);
        }
    };

    view! {
        <div class="merge-view">
            <p class="merge-summary" role="status">{summary}"."</p>
            {(count > 0).then(|| view! {
                <p class="merge-help">
                    {if count == 1 {
                        "Both sides changed this path. Choose the value to keep:".to_string()
                    } else {
                        format!("Both sides changed these {count} paths. Choose the value to keep for each:")
                    }}
                </p>
            })}
            {conflicts}
            <div class="actions">
                <button type="button" class="merge-confirm" disabled=move || !all_chosen() on:click=done>
                    {confirm}
                </button>
            </div>
        </div>
    }
}

/// A conflict side's value as the dialog shows it.
fn show(value: &Option<Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}
