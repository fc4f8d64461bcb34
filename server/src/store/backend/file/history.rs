//! The file store's history and change feed, kept beside the models in the data dir:
//! - `.changes.log`: the journal, one JSON line per write (its cursor, the model, ETag, op,
//!   author, time, size). It is the change feed and the index of every model's versions.
//! - `.history/{id}/{etag}.json`: the documents of the kept versions. An ETag is a digest of the
//!   document, so a document written twice is kept once.
//!
//! A write lands in this order: the version's document, its journal line, then the model's
//! rename (or removal). A `kill -9` between the steps leaves a journal line whose model was not
//! written yet; opening the store finishes that write from the version's document. So no
//! acknowledged write lacks its version or its event, and no version lacks its write.
//!
//! Cursors are handed out under the journal's lock, but a write becomes visible to the feed
//! only when its model is written, and writes to different models finish in any order. Readers
//! therefore only see cursors below the oldest write still in flight: nobody who resumes
//! "after 6" can miss a 5 that landed later.
//!
//! The journal is rewritten (atomically, through `durable.rs`) when it holds twice what is kept:
//! the lines of the kept versions plus the last `--keep-changes` events.
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
    fs,
    io::{BufRead, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use parking_lot::Mutex;
use sa_shared::history::{Author, Op};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::backend::{
    from_millis, millis, search_key, ChangeEvent, ChangeRead, Cursor, ListQuery, Meta, Page,
    Retention, VersionMeta,
};

const JOURNAL: &str = ".changes.log";
const HISTORY: &str = ".history";

/// One journal line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Line {
    c: u64,
    id: Uuid,
    etag: String,
    op: Op,
    sub: String,
    by: String,
    /// Unix milliseconds.
    t: i64,
    size: u64,
    /// The display name of the model this line leaves (for `deleted`: the one it removed).
    name: String,
}

impl Line {
    fn version(&self) -> VersionMeta {
        VersionMeta {
            cursor: Cursor::int(self.c),
            etag: self.etag.clone(),
            updated: from_millis(self.t),
            by: self.author(),
            size: self.size,
            op: self.op,
        }
    }

    fn event(&self) -> ChangeEvent {
        ChangeEvent {
            cursor: Cursor::int(self.c),
            id: self.id,
            etag: self.etag.clone(),
            op: self.op,
            by: self.author(),
            updated: from_millis(self.t),
        }
    }

    fn author(&self) -> Author {
        Author {
            sub: self.sub.clone(),
            name: self.by.clone(),
        }
    }
}

/// The journal's first line after a rewrite: events up to `floor` are no longer kept.
#[derive(Serialize, Deserialize)]
struct Header {
    floor: u64,
}

/// What a write asks the history to record.
pub struct Record {
    pub id: Uuid,
    pub op: Op,
    pub etag: String,
    pub by: Author,
    pub updated: OffsetDateTime,
    pub size: u64,
    pub name: String,
}

/// A model write that opening the store must finish (a crash came between journal and model).
pub enum Fix {
    Write {
        id: Uuid,
        body: Bytes,
        updated: OffsetDateTime,
    },
    Remove {
        id: Uuid,
    },
}

#[derive(Default)]
struct State {
    next: u64,
    floor: u64,
    /// Cursors handed out whose model write has not finished.
    in_flight: BTreeSet<u64>,
    /// The feed: the last `--keep-changes` lines, by cursor.
    tail: BTreeMap<u64, Line>,
    /// Each model's kept versions, oldest first.
    versions: HashMap<Uuid, VecDeque<Line>>,
    journal_lines: usize,
}

pub struct FileHistory {
    dir: PathBuf,
    retention: Retention,
    fsync: bool,
    state: Mutex<State>,
    journal: Mutex<fs::File>,
    wake: tokio::sync::Notify,
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl FileHistory {
    pub fn journal_path(dir: &Path) -> PathBuf {
        dir.join(JOURNAL)
    }

    fn blob(&self, id: Uuid, etag: &str) -> PathBuf {
        self.dir
            .join(HISTORY)
            .join(id.hyphenated().to_string())
            .join(format!("{etag}.json"))
    }

    /// Reads the journal (dropping a line torn by a crash) and says which model writes it
    /// must finish. `current` gives the ETag of a model file as found on disk.
    pub fn open(
        dir: &Path,
        retention: Retention,
        fsync: bool,
        current: impl Fn(Uuid) -> Option<String>,
    ) -> anyhow::Result<(Arc<FileHistory>, Vec<Fix>)> {
        let path = Self::journal_path(dir);
        let mut lines: Vec<Line> = Vec::new();
        let mut floor = 0;
        let mut good_len = 0u64;
        if let Ok(f) = fs::File::open(&path) {
            let mut reader = std::io::BufReader::new(f);
            let mut buf = String::new();
            loop {
                buf.clear();
                let n = reader.read_line(&mut buf)?;
                if n == 0 || !buf.ends_with('\n') {
                    break;
                }
                if let Ok(line) = serde_json::from_str::<Line>(&buf) {
                    lines.push(line);
                } else if let Ok(h) = serde_json::from_str::<Header>(&buf) {
                    floor = h.floor;
                } else {
                    break;
                }
                good_len += n as u64;
            }
        }
        // A torn last line is a write that was never acknowledged: cut it off.
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        if file.metadata()?.len() != good_len {
            tracing::warn!(journal = %path.display(), "dropping a torn last journal line");
            file.set_len(good_len)?;
        }
        let history = FileHistory {
            dir: dir.to_path_buf(),
            retention,
            fsync,
            state: Mutex::new(State {
                floor,
                next: lines.last().map_or(floor, |l| l.c).max(floor) + 1,
                journal_lines: lines.len(),
                ..State::default()
            }),
            journal: Mutex::new(file),
            wake: tokio::sync::Notify::new(),
        };
        let mut fixes = Vec::new();
        let mut last: HashMap<Uuid, &Line> = HashMap::new();
        for l in &lines {
            last.insert(l.id, l);
        }
        for (id, l) in last {
            let on_disk = current(id);
            match l.op {
                Op::Deleted if on_disk.is_some() => fixes.push(Fix::Remove { id }),
                Op::Deleted => {}
                _ if on_disk.as_deref() == Some(l.etag.as_str()) => {}
                _ => match fs::read(history.blob(id, &l.etag)) {
                    Ok(body) => fixes.push(Fix::Write {
                        id,
                        body: Bytes::from(body),
                        updated: from_millis(l.t),
                    }),
                    Err(e) => {
                        tracing::error!(model = %id, error = %e, "the journal's last write of this model has no document to finish it with")
                    }
                },
            }
        }
        {
            let mut st = history.state.lock();
            for l in lines {
                history.keep(&mut st, l);
            }
        }
        let history = Arc::new(history);
        history.purge_deleted();
        Ok((history, fixes))
    }

    /// Adds a line to the in-memory state; returns the version documents no longer needed.
    fn keep(&self, st: &mut State, line: Line) -> Vec<PathBuf> {
        let mut dropped = Vec::new();
        if line.c > st.floor {
            st.tail.insert(line.c, line.clone());
            while st.tail.len() > self.retention.changes {
                if let Some((c, _)) = st.tail.pop_first() {
                    st.floor = c;
                }
            }
        }
        let versions = st.versions.entry(line.id).or_default();
        if self.retention.versions > 0 {
            versions.push_back(line);
        }
        while versions.len() > self.retention.versions.max(1) {
            if let Some(old) = versions.pop_front() {
                if old.op != Op::Deleted && !versions.iter().any(|v| v.etag == old.etag) {
                    dropped.push(self.blob(old.id, &old.etag));
                }
            }
        }
        dropped
    }

    /// Step one of a write, before the model is touched (blocking): keeps the document as a
    /// version and appends the journal line. The returned cursor must go to [`Self::publish`].
    pub fn append(&self, rec: Record, body: Option<&[u8]>) -> std::io::Result<u64> {
        if let (Some(body), true) = (body, self.retention.versions > 0) {
            let blob = self.blob(rec.id, &rec.etag);
            if !blob.exists() {
                if let Some(parent) = blob.parent() {
                    fs::create_dir_all(parent)?;
                }
                crate::durable::replace(
                    &blob,
                    body,
                    crate::durable::Replace {
                        fsync: self.fsync,
                        ..Default::default()
                    },
                )?;
            }
        }
        let mut journal = self.journal.lock();
        let c = self.state.lock().next;
        let line = Line {
            c,
            id: rec.id,
            etag: rec.etag,
            op: rec.op,
            sub: rec.by.sub,
            by: rec.by.name,
            t: millis(rec.updated),
            size: rec.size,
            name: rec.name,
        };
        let mut text = serde_json::to_string(&line).map_err(io_err)?;
        text.push('\n');
        journal.write_all(text.as_bytes())?;
        if self.fsync {
            journal.sync_data()?;
        }
        let (dropped, compact) = {
            let mut st = self.state.lock();
            st.next = c + 1;
            st.in_flight.insert(c);
            st.journal_lines += 1;
            let dropped = self.keep(&mut st, line);
            let kept: usize =
                st.versions.values().map(VecDeque::len).sum::<usize>() + st.tail.len();
            (dropped, st.journal_lines > 2 * kept + 1024)
        };
        if compact {
            self.compact(&mut journal)?;
        }
        drop(journal);
        for path in dropped {
            let _ = fs::remove_file(path);
        }
        Ok(c)
    }

    /// Step three: the model is written (or the write failed and a restart will finish it);
    /// the event may now reach the feed.
    pub fn publish(&self, cursor: u64) {
        self.state.lock().in_flight.remove(&cursor);
        self.wake.notify_waiters();
    }

    /// Rewrites the journal with only what is kept (the caller holds the journal's lock).
    fn compact(&self, journal: &mut fs::File) -> std::io::Result<()> {
        let mut text = String::new();
        let count;
        {
            let st = self.state.lock();
            let mut lines: BTreeMap<u64, &Line> = st.tail.iter().map(|(c, l)| (*c, l)).collect();
            for l in st.versions.values().flatten() {
                lines.insert(l.c, l);
            }
            text.push_str(&serde_json::to_string(&Header { floor: st.floor }).map_err(io_err)?);
            text.push('\n');
            for l in lines.values() {
                text.push_str(&serde_json::to_string(l).map_err(io_err)?);
                text.push('\n');
            }
            count = lines.len();
        }
        let path = Self::journal_path(&self.dir);
        crate::durable::replace(
            &path,
            text.as_bytes(),
            crate::durable::Replace {
                fsync: self.fsync,
                ..Default::default()
            },
        )?;
        *journal = fs::OpenOptions::new().append(true).open(&path)?;
        self.state.lock().journal_lines = count;
        Ok(())
    }

    /// Forgets the models deleted longer ago than `--keep-deleted`, with their documents.
    pub fn purge_deleted(&self) {
        let cutoff = millis(self.retention.deleted_cutoff(OffsetDateTime::now_utc()));
        let gone: Vec<Uuid> = {
            let mut st = self.state.lock();
            let gone: Vec<Uuid> = st
                .versions
                .iter()
                .filter(|(_, v)| {
                    v.back()
                        .is_some_and(|l| l.op == Op::Deleted && l.t < cutoff)
                })
                .map(|(id, _)| *id)
                .collect();
            for id in &gone {
                st.versions.remove(id);
            }
            gone
        };
        for id in gone {
            let _ = fs::remove_dir_all(self.dir.join(HISTORY).join(id.hyphenated().to_string()));
        }
    }

    fn restorable(&self, versions: &VecDeque<Line>) -> bool {
        let cutoff = millis(self.retention.deleted_cutoff(OffsetDateTime::now_utc()));
        versions
            .back()
            .is_none_or(|l| l.op != Op::Deleted || l.t >= cutoff)
    }

    pub fn versions(&self, id: Uuid) -> Vec<VersionMeta> {
        let st = self.state.lock();
        match st.versions.get(&id) {
            Some(v) if self.restorable(v) => v.iter().rev().map(Line::version).collect(),
            _ => Vec::new(),
        }
    }

    /// Where the document of a kept version is, if it is kept.
    pub fn version_path(&self, id: Uuid, etag: &str) -> Option<PathBuf> {
        let st = self.state.lock();
        let v = st.versions.get(&id)?;
        (self.restorable(v) && v.iter().any(|l| l.etag == etag && l.op != Op::Deleted))
            .then(|| self.blob(id, etag))
    }

    pub fn deleted(&self, query: &ListQuery) -> Page {
        let st = self.state.lock();
        let mut rows: Vec<Meta> = st
            .versions
            .iter()
            .filter(|(_, v)| self.restorable(v))
            .filter_map(|(id, v)| {
                let l = v.back().filter(|l| l.op == Op::Deleted)?;
                query.matches(&search_key(&l.name)).then(|| Meta {
                    id: *id,
                    name: l.name.clone(),
                    updated: from_millis(l.t),
                    size: l.size,
                    etag: l.etag.clone(),
                })
            })
            .collect();
        rows.sort_by_key(|m| std::cmp::Reverse(m.id));
        let total = rows.len() as u64;
        let items = rows
            .into_iter()
            .filter(|m| query.after.is_none_or(|a| m.id < a))
            .take(query.limit + 1)
            .collect();
        Page::from_overfetch(items, query.limit, total)
    }

    pub fn changes(&self, after: Cursor, limit: usize) -> ChangeRead {
        let st = self.state.lock();
        if after.hi < st.floor || after.hi >= st.next {
            return ChangeRead {
                events: Vec::new(),
                reset: true,
            };
        }
        let visible_below = st.in_flight.first().copied().unwrap_or(u64::MAX);
        if after.hi + 1 >= visible_below {
            return ChangeRead::default();
        }
        ChangeRead {
            events: st
                .tail
                .range(after.hi + 1..visible_below)
                .take(limit)
                .map(|(_, l)| l.event())
                .collect(),
            reset: false,
        }
    }

    pub fn head(&self) -> Cursor {
        let st = self.state.lock();
        let visible_below = st.in_flight.first().copied().unwrap_or(st.next);
        Cursor::int(visible_below.saturating_sub(1))
    }

    pub async fn wait_changes(&self, after: Cursor, limit: usize) -> ChangeRead {
        let woken = self.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let read = self.changes(after, limit);
        if !read.events.is_empty() || read.reset {
            return read;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), woken).await;
        self.changes(after, limit)
    }
}
