//! The embedded default: one `{id}.json` file per model in a directory, plus an in-memory index.
//!
//! Crash safety: a write goes to a temporary file in the same directory, which is renamed over
//! the model's file. `rename` is atomic, so a reader or a restart after `kill -9` sees the old or
//! the new document, never a torn one. What `--fsync` trades:
//! - `always`: fsync the temporary file before the rename and the directory after it, then
//!   answer. An acknowledged write survives power loss. Costs two fsyncs per write.
//! - `batch`: answer right after the rename; a background task fsyncs the written files and the
//!   directory every 200 ms. A process crash loses nothing (the page cache survives it); a power
//!   loss or kernel crash can lose the writes of the last interval.
//! - `never`: leave flushing to the OS. A process crash loses nothing; a power loss can lose any
//!   recent write.
//!
//! The index holds every model's summary (so listing reads no file) and, within a memory budget,
//! the document itself (so GET reads no file). Startup rebuilds it from the directory and
//! removes temporary files that a crash left behind.
use std::{
    collections::{BTreeMap, HashSet},
    fs,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    etag_of, search_key, BackendError, Deleted, Expect, ListQuery, Meta, NewDoc, Page, Result,
    Stored, Written,
};
use crate::store::args::FsyncMode;

mod history;
use history::{FileHistory, Fix, Record};
/// Writes to different models proceed in parallel; writes to one model take turns.
const LOCK_STRIPES: usize = 64;

struct Entry {
    meta: Meta,
    /// Empty when the name is already lower case (most are): one allocation less per model.
    name_lower: String,
    body: Option<Bytes>,
}

impl Entry {
    fn new(meta: Meta, body: Option<Bytes>) -> Entry {
        let lower = search_key(&meta.name);
        let name_lower = if lower == meta.name {
            String::new()
        } else {
            lower
        };
        // A cached body holds exactly its bytes: one read into a growing buffer can hold up to
        // twice its length, which would let the cache overshoot its budget.
        let body = body.map(|b| Bytes::copy_from_slice(&b));
        Entry {
            meta,
            name_lower,
            body,
        }
    }

    fn search_key(&self) -> &str {
        if self.name_lower.is_empty() {
            &self.meta.name
        } else {
            &self.name_lower
        }
    }
}

pub struct FileBackend {
    dir: PathBuf,
    fsync: FsyncMode,
    index: RwLock<BTreeMap<Uuid, Entry>>,
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Bytes of documents kept in memory at most (`--cache-bytes`).
    budget: u64,
    cached: AtomicU64,
    /// Files renamed since the last background fsync (`batch` only); a model written many
    /// times in one interval is synced once.
    unsynced: Arc<Mutex<HashSet<PathBuf>>>,
    history: Arc<FileHistory>,
}

impl FileBackend {
    /// Opens (creating if needed) the directory and loads the index, with the default budget.
    pub fn open(
        dir: &Path,
        fsync: FsyncMode,
        retention: super::Retention,
    ) -> anyhow::Result<FileBackend> {
        Self::open_with_budget(
            dir,
            fsync,
            crate::store::args::DEFAULT_CACHE_BYTES,
            retention,
        )
    }

    /// Like [`FileBackend::open`], keeping at most `budget` bytes of documents in memory, at
    /// start as later.
    pub fn open_with_budget(
        dir: &Path,
        fsync: FsyncMode,
        budget: u64,
        retention: super::Retention,
    ) -> anyhow::Result<FileBackend> {
        fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the model directory {}: {e}", dir.display())
        })?;
        let mut index = BTreeMap::new();
        let mut cached = 0u64;
        for entry in
            fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // A write that crashed before its rename: the model's file still has the old version.
                let _ = fs::remove_file(&path);
                continue;
            }
            let Some(id) = name
                .strip_suffix(".json")
                .and_then(|s| Uuid::parse_str(s).ok())
            else {
                continue;
            };
            let body = Bytes::from(fs::read(&path)?);
            let doc: serde_json::Value = match serde_json::from_slice(&body) {
                Ok(v @ serde_json::Value::Object(_)) => v,
                _ => {
                    tracing::error!(file = %path.display(), "not a JSON object; left in place and not served");
                    continue;
                }
            };
            let updated = entry
                .metadata()?
                .modified()
                .map(OffsetDateTime::from)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            let name = sa_shared::model::display_name(&doc, &id.hyphenated().to_string());
            let meta = meta_of(id, &body, name, updated);
            let keep = cached + body.len() as u64 <= budget;
            if keep {
                cached += body.len() as u64;
            }
            index.insert(id, Entry::new(meta, keep.then_some(body)));
        }
        let (history, fixes) =
            FileHistory::open(dir, retention, fsync == FsyncMode::Always, |id| {
                index.get(&id).map(|e: &Entry| e.meta.etag.clone())
            })?;
        apply_fixes(dir, &mut index, fixes)?;
        tracing::info!(dir = %dir.display(), models = index.len(), cached_bytes = cached, cache_budget = budget, "file store loaded");
        let unsynced = Arc::new(Mutex::new(HashSet::new()));
        if fsync == FsyncMode::Batch {
            spawn_flusher(dir.to_path_buf(), Arc::downgrade(&unsynced));
        }
        Ok(FileBackend {
            dir: dir.to_path_buf(),
            fsync,
            index: RwLock::new(index),
            stripes: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            budget,
            cached: AtomicU64::new(cached),
            unsynced,
            history,
        })
    }

    fn path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{}.json", id.hyphenated()))
    }

    fn stripe(&self, id: Uuid) -> &tokio::sync::Mutex<()> {
        &self.stripes[(id.as_u128() % LOCK_STRIPES as u128) as usize]
    }

    fn current_etag(&self, id: Uuid) -> Option<String> {
        self.index.read().get(&id).map(|e| e.meta.etag.clone())
    }

    fn keep_in_memory(&self, old: Option<&Entry>, body: &Bytes) -> bool {
        let old_len = old
            .and_then(|e| e.body.as_ref())
            .map_or(0, |b| b.len() as u64);
        let now = self.cached.load(Ordering::Relaxed).saturating_sub(old_len);
        let keep = now + body.len() as u64 <= self.budget;
        self.cached.store(
            if keep { now + body.len() as u64 } else { now },
            Ordering::Relaxed,
        );
        keep
    }
}

fn meta_of(id: Uuid, body: &[u8], name: String, updated: OffsetDateTime) -> Meta {
    Meta {
        id,
        name,
        updated,
        size: body.len() as u64,
        etag: etag_of(body),
    }
}

fn write_atomically(
    target: &Path,
    body: &[u8],
    updated: SystemTime,
    fsync: FsyncMode,
) -> std::io::Result<()> {
    // The summary's `updated` is the file's mtime after a restart, so keep them equal.
    crate::durable::replace(
        target,
        body,
        crate::durable::Replace {
            fsync: fsync == FsyncMode::Always,
            mode: None,
            modified: Some(updated),
        },
    )
}

fn spawn_flusher(dir: PathBuf, pending: std::sync::Weak<Mutex<HashSet<PathBuf>>>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            let Some(pending) = pending.upgrade() else {
                return;
            };
            let files = std::mem::take(&mut *pending.lock());
            drop(pending);
            if files.is_empty() {
                continue;
            }
            let dir = dir.clone();
            let _ = tokio::task::spawn_blocking(move || {
                for f in files {
                    if let Ok(f) = fs::File::open(&f) {
                        let _ = f.sync_all();
                    }
                }
                if let Ok(d) = fs::File::open(&dir) {
                    let _ = d.sync_all();
                }
            })
            .await;
        }
    });
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| BackendError(format!("file system: {e}"))),
        Err(e) => Err(BackendError(format!("file system task failed: {e}"))),
    }
}

impl super::Backend for FileBackend {
    fn kind(&self) -> sa_shared::routes::Backend {
        sa_shared::routes::Backend::File
    }

    async fn get(&self, id: Uuid) -> Result<Option<Stored>> {
        let (etag, body) = match self.index.read().get(&id) {
            None => return Ok(None),
            Some(e) => (e.meta.etag.clone(), e.body.clone()),
        };
        let body = match body {
            Some(b) => b,
            None => {
                let path = self.path(id);
                match blocking(move || fs::read(path)).await {
                    Ok(b) => Bytes::from(b),
                    // Deleted between the index lookup and the read.
                    Err(_) if !self.index.read().contains_key(&id) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(Some(Stored { body, etag }))
    }

    async fn put(&self, id: Uuid, doc: NewDoc, expect: Expect) -> Result<Written> {
        let _turn = self.stripe(id).lock().await;
        let current = self.current_etag(id);
        if !expect.allows(current.as_deref()) {
            return Ok(Written::PreconditionFailed);
        }
        let (target, body, fsync) = (self.path(id), doc.body.clone(), self.fsync);
        let updated = SystemTime::from(doc.updated);
        let target2 = target.clone();
        let (history, record) = (self.history.clone(), record_of(id, &doc, current.is_some()));
        let (cursor, written) = blocking(move || {
            let cursor = history.append(record, Some(&body))?;
            Ok((cursor, write_atomically(&target2, &body, updated, fsync)))
        })
        .await?;
        let _published = Publish(&self.history, cursor);
        written.map_err(|e| BackendError(format!("file system: {e}")))?;
        if self.fsync == FsyncMode::Batch {
            let mut unsynced = self.unsynced.lock();
            unsynced.insert(target);
            unsynced.insert(FileHistory::journal_path(&self.dir));
        }
        let mut index = self.index.write();
        let keep = self.keep_in_memory(index.get(&id), &doc.body);
        let meta = doc.meta(id);
        index.insert(id, Entry::new(meta, keep.then_some(doc.body)));
        Ok(if current.is_some() {
            Written::Updated
        } else {
            Written::Created
        })
    }

    async fn delete(
        &self,
        id: Uuid,
        expect: Expect,
        by: sa_shared::history::Author,
    ) -> Result<Deleted> {
        let _turn = self.stripe(id).lock().await;
        let Some(meta) = self.index.read().get(&id).map(|e| e.meta.clone()) else {
            return Ok(Deleted::NotFound);
        };
        if !expect.allows(Some(&meta.etag)) {
            return Ok(Deleted::PreconditionFailed);
        }
        let record = Record {
            id,
            op: sa_shared::history::Op::Deleted,
            etag: meta.etag,
            by,
            updated: super::now_millis(),
            size: meta.size,
            name: meta.name,
        };
        let (dir, target, fsync) = (self.dir.clone(), self.path(id), self.fsync);
        let history = self.history.clone();
        let cursor = blocking(move || history.append(record, None)).await?;
        let _published = Publish(&self.history, cursor);
        blocking(move || {
            match fs::remove_file(&target) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            if fsync == FsyncMode::Always {
                fs::File::open(&dir)?.sync_all()?;
            }
            Ok(())
        })
        .await?;
        let mut index = self.index.write();
        if let Some(old) = index.remove(&id) {
            let freed = old.body.map_or(0, |b| b.len() as u64);
            // Under the index's write lock, like every other update of the budget.
            self.cached.store(
                self.cached.load(Ordering::Relaxed).saturating_sub(freed),
                Ordering::Relaxed,
            );
        }
        Ok(Deleted::Deleted)
    }

    async fn list(&self, query: ListQuery) -> Result<Page> {
        let index = self.index.read();
        let total = if query.q.is_none() {
            index.len() as u64
        } else {
            index
                .values()
                .filter(|e| query.matches(e.search_key()))
                .count() as u64
        };
        let range = match query.after {
            Some(after) => index.range(..after),
            None => index.range(..),
        };
        let items: Vec<Meta> = range
            .rev()
            .filter(|(_, e)| query.matches(e.search_key()))
            .take(query.limit + 1)
            .map(|(_, e)| e.meta.clone())
            .collect();
        Ok(Page::from_overfetch(items, query.limit, total))
    }

    async fn ids(&self) -> Result<Vec<Uuid>> {
        Ok(self.index.read().keys().rev().copied().collect())
    }

    async fn ids_page(&self, after: Option<Uuid>, limit: usize) -> Result<Vec<Uuid>> {
        let index = self.index.read();
        let range = match after {
            Some(after) => index.range(..after),
            None => index.range(..),
        };
        Ok(range.rev().take(limit).map(|(id, _)| *id).collect())
    }

    async fn ready(&self) -> Result<()> {
        let dir = self.dir.clone();
        blocking(move || fs::metadata(&dir).map(|_| ())).await
    }

    async fn versions(&self, id: Uuid) -> Result<Vec<super::VersionMeta>> {
        Ok(self.history.versions(id))
    }

    async fn version_body(&self, id: Uuid, etag: &str) -> Result<Option<Bytes>> {
        let Some(path) = self.history.version_path(id, etag) else {
            return Ok(None);
        };
        match blocking(move || fs::read(path)).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            // Trimmed between the lookup and the read.
            Err(_) if self.history.version_path(id, etag).is_none() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn deleted(&self, query: ListQuery) -> Result<Page> {
        Ok(self.history.deleted(&query))
    }

    async fn changes(&self, after: super::Cursor, limit: usize) -> Result<super::ChangeRead> {
        Ok(self.history.changes(after, limit))
    }

    async fn head(&self) -> Result<super::Cursor> {
        Ok(self.history.head())
    }

    async fn wait_changes(&self, after: super::Cursor, limit: usize) -> Result<super::ChangeRead> {
        Ok(self.history.wait_changes(after, limit).await)
    }
}

/// Lets a write's event out to the feed once the model's index entry is updated too (on drop,
/// so it happens on every path out of the write).
struct Publish<'a>(&'a FileHistory, u64);

impl Drop for Publish<'_> {
    fn drop(&mut self) {
        self.0.publish(self.1);
    }
}

fn record_of(id: Uuid, doc: &NewDoc, existed: bool) -> Record {
    Record {
        id,
        op: super::history::op_of(doc.restored, existed),
        etag: doc.etag.clone(),
        by: doc.by.clone(),
        updated: doc.updated,
        size: doc.body.len() as u64,
        name: doc.name.clone(),
    }
}

/// Finishes the model writes that a crash cut between their journal line and their file.
fn apply_fixes(
    dir: &Path,
    index: &mut BTreeMap<Uuid, Entry>,
    fixes: Vec<Fix>,
) -> anyhow::Result<()> {
    for fix in fixes {
        match fix {
            Fix::Remove { id } => {
                let _ = fs::remove_file(dir.join(format!("{}.json", id.hyphenated())));
                index.remove(&id);
            }
            Fix::Write { id, body, updated } => {
                let path = dir.join(format!("{}.json", id.hyphenated()));
                write_atomically(&path, &body, SystemTime::from(updated), FsyncMode::Always)?;
                let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let name = sa_shared::model::display_name(&doc, &id.hyphenated().to_string());
                let meta = meta_of(id, &body, name, updated);
                tracing::info!(model = %id, "finished a write that a crash interrupted");
                index.insert(
                    id,
                    Entry {
                        name_lower: search_key(&meta.name),
                        meta,
                        body: None,
                    },
                );
            }
        }
    }
    Ok(())
}
