//! The change feed of one store instance: one task reads the backend's feed (one `LISTEN`
//! connection, one `XREAD BLOCK` loop, or the file journal's wake-up) and fans each event out
//! to every subscriber through a bounded broadcast channel. A subscriber holds no backend
//! connection; one that falls more than [`LAG`] events behind is dropped, and resumes from the
//! last cursor it got.
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Weak,
    },
    time::Duration,
};

use tokio::sync::broadcast;

use super::{
    backend::{Backend, ChangeEvent, Cursor},
    metrics::Metrics,
};

/// Events a subscriber may fall behind the live feed before it is dropped.
pub const LAG: usize = 1024;
/// Events read from the backend per query.
pub const BATCH: usize = 256;
/// Wait before reading again after the backend failed.
const RETRY: Duration = Duration::from_millis(500);

#[derive(Clone, Debug)]
pub enum Item {
    Change(Arc<ChangeEvent>),
    /// The reader itself fell behind what the backend keeps: every subscriber must reload.
    Reset(Cursor),
}

pub struct Feed {
    tx: broadcast::Sender<Item>,
    /// Set once the reader knows where the backend's feed stands: from then on every later
    /// write reaches the fan-out.
    ready: tokio::sync::watch::Sender<bool>,
    subscribers: AtomicUsize,
    max: usize,
    metrics: Arc<Metrics>,
}

/// One open stream; counts against `--max-subscribers` until dropped.
pub struct Subscription {
    pub rx: broadcast::Receiver<Item>,
    feed: Arc<Feed>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.subscribers.fetch_sub(1, Ordering::SeqCst);
        self.feed.metrics.feed_subscribers.dec();
    }
}

impl Feed {
    /// Starts the instance's one backend reader; it stops when the store is dropped.
    pub fn start<B: Backend>(backend: Arc<B>, metrics: Arc<Metrics>, max: usize) -> Arc<Feed> {
        let (tx, _) = broadcast::channel(LAG);
        let feed = Arc::new(Feed {
            tx,
            ready: tokio::sync::watch::channel(false).0,
            subscribers: AtomicUsize::new(0),
            max,
            metrics,
        });
        tokio::spawn(read_backend(
            Arc::downgrade(&backend),
            Arc::downgrade(&feed),
        ));
        feed
    }

    /// A new subscriber, or `None` past `--max-subscribers`.
    pub fn subscribe(self: &Arc<Self>) -> Option<Subscription> {
        let n = self.subscribers.fetch_add(1, Ordering::SeqCst);
        if n >= self.max {
            self.subscribers.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        self.metrics.feed_subscribers.inc();
        Some(Subscription {
            rx: self.tx.subscribe(),
            feed: self.clone(),
        })
    }

    /// Waits (up to `limit`) until the reader follows the backend; false if it does not yet.
    pub async fn ready(&self, limit: Duration) -> bool {
        let mut rx = self.ready.subscribe();
        let ready = matches!(
            tokio::time::timeout(limit, rx.wait_for(|r| *r)).await,
            Ok(Ok(_))
        );
        ready
    }

    pub fn sent(&self) {
        self.metrics.feed_events.inc();
    }
}

async fn read_backend<B: Backend>(backend: Weak<B>, feed: Weak<Feed>) {
    let mut last: Option<Cursor> = None;
    loop {
        let (Some(b), Some(f)) = (backend.upgrade(), feed.upgrade()) else {
            return;
        };
        let Some(after) = last else {
            match b.head().await {
                Ok(c) => {
                    last = Some(c);
                    f.ready.send_replace(true);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: the backend is not reachable");
                    drop((b, f));
                    tokio::time::sleep(RETRY).await;
                }
            }
            continue;
        };
        drop(f);
        let read = b.wait_changes(after, BATCH).await;
        drop(b);
        let Some(f) = feed.upgrade() else {
            return;
        };
        match read {
            Ok(read) if read.reset => {
                tracing::warn!(cursor = %after, "change feed: the reader fell behind what the backend keeps");
                last = None;
                if let Some(b) = backend.upgrade() {
                    if let Ok(head) = b.head().await {
                        last = Some(head);
                        let _ = f.tx.send(Item::Reset(head));
                    }
                }
            }
            Ok(read) => {
                for e in read.events {
                    // Never backwards: a backend re-read after an error may repeat events.
                    if e.cursor > after && last.is_none_or(|l| e.cursor > l) {
                        last = Some(e.cursor);
                        let _ = f.tx.send(Item::Change(Arc::new(e)));
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "change feed: reading the backend failed");
                drop(f);
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
