//! Where the models live. Every backend offers the same operations with the same semantics, and
//! one conformance suite (`server/tests/store_conformance.rs`) holds them to it.
//!
//! Order: models are listed by id, newest first. New ids are UUIDv7, so id order is creation
//! order, and it never changes when a model is updated. A cursor is the last id of a page, so a
//! walk over the pages sees every model that exists throughout the walk exactly once, whatever
//! is written meanwhile.
use std::future::Future;

use bytes::Bytes;
pub use history::{ChangeEvent, ChangeRead, Cursor, Retention, VersionMeta};
use sa_shared::history::Author;
use time::OffsetDateTime;
use uuid::Uuid;

pub mod file;
pub mod history;
pub mod postgres;
pub mod redis;

/// The backend could not be reached or failed; the request may succeed later (503).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

impl BackendError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        BackendError(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// A stored document as GET returns it.
#[derive(Clone, Debug)]
pub struct Stored {
    pub body: Bytes,
    /// Opaque version, without the quotes of the header.
    pub etag: String,
}

/// What the summary view shows of one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub id: Uuid,
    pub name: String,
    pub updated: OffsetDateTime,
    pub size: u64,
    pub etag: String,
}

/// A validated document ready to be written (the handler parsed it and computed these).
#[derive(Clone, Debug)]
pub struct NewDoc {
    pub body: Bytes,
    pub name: String,
    pub etag: String,
    pub updated: OffsetDateTime,
    /// Who writes it (recorded in its version).
    pub by: Author,
    /// A restore of an earlier version: its version says `restored`.
    pub restored: bool,
}

impl NewDoc {
    pub fn meta(&self, id: Uuid) -> Meta {
        Meta {
            id,
            name: self.name.clone(),
            updated: self.updated,
            size: self.body.len() as u64,
            etag: self.etag.clone(),
        }
    }
}

/// The condition a write must meet, checked atomically with the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Unconditional (create or replace).
    Anything,
    /// The model must not exist yet (POST).
    Absent,
    /// `If-Match: *`: the model must exist.
    Exists,
    /// `If-Match`: the current ETag must be one of these.
    Etag(Vec<String>),
}

impl Expect {
    /// Whether a model whose current ETag is `current` (None: absent) may be written.
    pub fn allows(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (Expect::Anything, _) => true,
            (Expect::Absent, c) => c.is_none(),
            (Expect::Exists, c) => c.is_some(),
            (Expect::Etag(tags), Some(c)) => tags.iter().any(|t| t == c),
            (Expect::Etag(_), None) => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    /// The expectation did not hold; nothing was written.
    PreconditionFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    NotFound,
    PreconditionFailed,
}

/// One page request of the summary view. `q` is already lower-cased.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub after: Option<Uuid>,
    pub limit: usize,
    pub q: Option<String>,
}

impl ListQuery {
    pub fn matches(&self, name_lower: &str) -> bool {
        self.q.as_deref().is_none_or(|q| name_lower.contains(q))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Meta>,
    /// Set when more items follow: the last id of this page.
    pub next: Option<Uuid>,
    /// Models matching `q` across all pages.
    pub total: u64,
}

impl Page {
    /// A page from up to `limit + 1` rows in list order: a row beyond `limit` only says that
    /// another page follows, and the cursor is the last id kept.
    pub fn from_overfetch(mut items: Vec<Meta>, limit: usize, total: u64) -> Page {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|m| m.id)
        } else {
            None
        };
        Page { items, next, total }
    }
}

/// The operations every storage system offers.
pub trait Backend: Send + Sync + 'static {
    fn kind(&self) -> sa_shared::routes::Backend;
    fn get(&self, id: Uuid) -> impl Future<Output = Result<Option<Stored>>> + Send;
    fn put(
        &self,
        id: Uuid,
        doc: NewDoc,
        expect: Expect,
    ) -> impl Future<Output = Result<Written>> + Send;
    /// Removes the model; its history stays restorable for `--keep-deleted`.
    fn delete(
        &self,
        id: Uuid,
        expect: Expect,
        by: Author,
    ) -> impl Future<Output = Result<Deleted>> + Send;
    fn list(&self, query: ListQuery) -> impl Future<Output = Result<Page>> + Send;
    /// Every id, newest first (the original `GET /api/model`).
    fn ids(&self) -> impl Future<Output = Result<Vec<Uuid>>> + Send;
    /// Up to `limit` ids older than `after` (from the newest without it), newest first: the
    /// original `GET /api/model` streams its array from these pages.
    fn ids_page(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>>> + Send;
    /// Whether the storage system answers (for `/readyz`).
    fn ready(&self) -> impl Future<Output = Result<()>> + Send;

    /// The kept versions of a model (live, or deleted and still restorable), newest first.
    fn versions(&self, id: Uuid) -> impl Future<Output = Result<Vec<VersionMeta>>> + Send;
    /// The document of one kept version.
    fn version_body(
        &self,
        id: Uuid,
        etag: &str,
    ) -> impl Future<Output = Result<Option<Bytes>>> + Send;
    /// Deleted models that can still be restored, in list order; each summary is the model as
    /// it was, with `updated` the time of its delete.
    fn deleted(&self, query: ListQuery) -> impl Future<Output = Result<Page>> + Send;
    /// Whether `c` has the shape of this store's cursors.
    fn cursor_ok(&self, c: &Cursor) -> bool {
        c.lo.is_none()
    }
    /// Up to `limit` events after `after`, in cursor order (no waiting).
    fn changes(
        &self,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<ChangeRead>> + Send;
    /// The cursor of the newest event (the default cursor when there is none).
    fn head(&self) -> impl Future<Output = Result<Cursor>> + Send;
    /// Like [`Backend::changes`], but waits a few seconds for an event when there is none yet.
    /// Only the store's one feed reader calls it, so a backend may hold one connection for it.
    fn wait_changes(
        &self,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<ChangeRead>> + Send;
}

/// One backend behind several instances (the v1 and v2 routers of `sa-server dev` share the
/// data, and the file backend's index and locks, of one object).
impl<B: Backend> Backend for std::sync::Arc<B> {
    fn kind(&self) -> sa_shared::routes::Backend {
        (**self).kind()
    }
    fn get(&self, id: Uuid) -> impl Future<Output = Result<Option<Stored>>> + Send {
        (**self).get(id)
    }
    fn put(
        &self,
        id: Uuid,
        doc: NewDoc,
        expect: Expect,
    ) -> impl Future<Output = Result<Written>> + Send {
        (**self).put(id, doc, expect)
    }
    fn delete(
        &self,
        id: Uuid,
        expect: Expect,
        by: Author,
    ) -> impl Future<Output = Result<Deleted>> + Send {
        (**self).delete(id, expect, by)
    }
    fn list(&self, query: ListQuery) -> impl Future<Output = Result<Page>> + Send {
        (**self).list(query)
    }
    fn ids(&self) -> impl Future<Output = Result<Vec<Uuid>>> + Send {
        (**self).ids()
    }
    fn ids_page(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Uuid>>> + Send {
        (**self).ids_page(after, limit)
    }
    fn ready(&self) -> impl Future<Output = Result<()>> + Send {
        (**self).ready()
    }
    fn versions(&self, id: Uuid) -> impl Future<Output = Result<Vec<VersionMeta>>> + Send {
        (**self).versions(id)
    }
    fn version_body(
        &self,
        id: Uuid,
        etag: &str,
    ) -> impl Future<Output = Result<Option<Bytes>>> + Send {
        (**self).version_body(id, etag)
    }
    fn deleted(&self, query: ListQuery) -> impl Future<Output = Result<Page>> + Send {
        (**self).deleted(query)
    }
    fn cursor_ok(&self, c: &Cursor) -> bool {
        (**self).cursor_ok(c)
    }
    fn changes(
        &self,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<ChangeRead>> + Send {
        (**self).changes(after, limit)
    }
    fn head(&self) -> impl Future<Output = Result<Cursor>> + Send {
        (**self).head()
    }
    fn wait_changes(
        &self,
        after: Cursor,
        limit: usize,
    ) -> impl Future<Output = Result<ChangeRead>> + Send {
        (**self).wait_changes(after, limit)
    }
}

/// A new time-ordered id (UUIDv7). `now_v7` keeps a counter within the millisecond, so ids made
/// by one process sort in creation order even when they share a millisecond.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// The ETag of a document: a digest of its bytes, so equal documents have equal tags.
pub fn etag_of(body: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The lower-cased name that search compares with.
pub fn search_key(name: &str) -> String {
    name.to_lowercase()
}

/// Truncates to milliseconds, the precision every backend keeps.
pub fn now_millis() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now)
}

pub fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_sort_by_creation_time() {
        // Far more ids than milliseconds pass, so many share one: order must still hold.
        let ids: Vec<Uuid> = (0..10_000).map(|_| new_id()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids out of creation order"
        );
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
    }

    #[test]
    fn expectations() {
        assert!(Expect::Absent.allows(None));
        assert!(!Expect::Absent.allows(Some("x")));
        assert!(Expect::Etag(vec!["a".into(), "b".into()]).allows(Some("b")));
        assert!(!Expect::Etag(vec!["a".into()]).allows(None));
        assert!(!Expect::Exists.allows(None));
    }
}
