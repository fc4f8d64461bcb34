//! A tab's list following its store's change feed: new, changed and deleted models show in
//! the list without a reload, each briefly marked. A split point (`split` feature): the feed
//! code comes after the list's first page, not with the first load.
use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use sa_shared::{
    config::StoreEntry,
    history::{Change, Op},
    model::ModelSummary,
    web::{
        feed::{self, FeedEvent},
        lowercase, store_api,
    },
};

use crate::state::Ctx;

/// How long a row stays marked after a change (the CSS animation is as long).
const MARK_FOR: Duration = Duration::from_millis(2500);

/// How a row was touched by a write (`live-new`, `live-changed`, `live-deleted` in CSS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    New,
    Changed,
    Deleted,
}

/// The list state the feed updates. All signals belong to the list component.
#[derive(Clone, Copy)]
pub struct ListState {
    pub items: RwSignal<Vec<ModelSummary>>,
    pub total: RwSignal<Option<u64>>,
    pub next: RwSignal<Option<String>>,
    pub query: RwSignal<String>,
    pub active: RwSignal<usize>,
    pub marks: RwSignal<HashMap<String, Mark>>,
    /// Said to screen readers: what the last change was.
    pub note: RwSignal<String>,
    /// Bumped on each delete or restore, so an open "Recently deleted" view reloads.
    pub deleted_rev: RwSignal<u32>,
    /// Bumped on `reset`: reload the list from its first page.
    pub revision: RwSignal<u32>,
}

/// Follows `store`'s feed while the calling owner (the list) lives, from `after`, the cursor
/// the list's first page came with.
#[cfg_attr(feature = "split", leptos::lazy)]
pub async fn follow_list(ctx: Ctx, store: StoreEntry, list: ListState, after: Option<String>) {
    let store2 = store.clone();
    feed::watch(ctx.session, store, after, move |event| match event {
        FeedEvent::Reset => {
            list.revision.try_update(|r| *r += 1);
            list.deleted_rev.try_update(|r| *r += 1);
        }
        FeedEvent::Change(change) => apply(ctx, store2.clone(), list, change),
    });
}

fn apply(ctx: Ctx, store: StoreEntry, list: ListState, change: Change) {
    if matches!(change.op, Op::Deleted | Op::Restored) {
        list.deleted_rev.try_update(|r| *r += 1);
    }
    if change.op == Op::Deleted {
        let Some(name) = list
            .items
            .try_with_untracked(|v| v.iter().find(|m| m.id == change.id).map(|m| m.name.clone()))
            .flatten()
        else {
            return;
        };
        list.note
            .try_set(format!("“{name}” was deleted by {}.", change.by.name));
        // Shown struck through for a moment, then taken out, so the eye sees what went.
        mark(list, &change.id, Mark::Deleted);
        let id = change.id.clone();
        set_timeout(
            move || {
                let Some(Some(at)) = list
                    .items
                    .try_with_untracked(|v| v.iter().position(|m| m.id == id))
                else {
                    return;
                };
                list.items.try_update(|v| {
                    v.remove(at);
                });
                list.total.try_update(|t| {
                    if let Some(t) = t {
                        *t = t.saturating_sub(1)
                    }
                });
                list.active.try_update(|a| {
                    if *a > at {
                        *a -= 1
                    }
                });
            },
            MARK_FOR,
        );
        return;
    }
    let etag = change.etag.trim_matches('"').to_string();
    let known = list
        .items
        .try_with_untracked(|v| v.iter().find(|m| m.id == change.id).map(|m| m.etag.clone()));
    let Some(known) = known else { return };
    // This list already shows that version (e.g. it reloaded after the user's own save).
    if known.as_deref() == Some(etag.as_str()) {
        return;
    }
    leptos::task::spawn_local(async move {
        // The feed says who and when, not the name or size: the model itself does.
        let Ok(got) = store_api::get(ctx.session, &store, &change.id).await else {
            return;
        };
        let row = ModelSummary {
            url: store_api::model_url(&store, &change.id),
            name: got.doc.display_name(&change.id),
            updated: change.updated.clone(),
            size: got.size as u64,
            etag: got.etag.trim_matches('"').to_string(),
            id: change.id.clone(),
        };
        // The browser's lowercasing: Rust's `to_lowercase` would bring its Unicode case tables
        // (about 12 KB) into this chunk.
        let q = lowercase(list.query.get_untracked().trim());
        let matches = q.is_empty() || lowercase(&row.name).contains(&q);
        let who = change.by.name.clone();
        let Some(pos) = list
            .items
            .try_with_untracked(|v| v.iter().position(|m| m.id == row.id))
        else {
            return;
        };
        match pos {
            Some(at) if matches => {
                let name = row.name.clone();
                list.items.try_update(|v| v[at] = row);
                list.note.try_set(format!("“{name}” was changed by {who}."));
                mark(list, &change.id, Mark::Changed);
            }
            Some(_) => {}
            None if !matches => {}
            None => {
                // Newest first, as the store lists them (ids are UUIDv7, so text order is id
                // order). A row past the loaded pages comes with its page.
                let (at, len) = list.items.with_untracked(|v| {
                    (
                        v.iter().position(|m| m.id < row.id).unwrap_or(v.len()),
                        v.len(),
                    )
                });
                if change.op == Op::Created || change.op == Op::Restored {
                    list.total.try_update(|t| *t = Some(t.unwrap_or(0) + 1));
                }
                if at == len && list.next.with_untracked(Option::is_some) {
                    return;
                }
                let name = row.name.clone();
                list.items.try_update(|v| v.insert(at, row));
                list.active.try_update(|a| {
                    if len > 0 && *a >= at {
                        *a += 1
                    }
                });
                let verb = match change.op {
                    Op::Restored => "restored",
                    Op::Updated => "changed",
                    _ => "added",
                };
                list.note.try_set(format!("“{name}” was {verb} by {who}."));
                mark(list, &change.id, Mark::New);
            }
        }
    });
}

fn mark(list: ListState, id: &str, how: Mark) {
    list.marks.try_update(|m| {
        m.insert(id.to_string(), how);
    });
    let id = id.to_string();
    set_timeout(
        move || {
            list.marks.try_update(|m| {
                if m.get(&id) == Some(&how) {
                    m.remove(&id);
                }
            });
        },
        MARK_FOR,
    );
}
