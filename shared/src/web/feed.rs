//! A store's change feed (`GET {store.url}/api/changes`) through gloo-net's `EventSource`.
//!
//! [`watch`] keeps one stream open while its reactive owner lives. The browser reconnects by
//! itself after a network drop and sends `Last-Event-ID`, so the store replays what was missed.
//! When the stream fails for good (the store answered an error, e.g. 401 once the access token
//! in the URL expired), the feed opens a new one with a fresh token and `?after=` the last
//! cursor, after a pause that doubles up to 30 s. A `reset` event, or a reopen without any cursor
//! to resume from, reaches the caller as [`FeedEvent::Reset`]: reload the list.
use std::{cell::RefCell, rc::Rc, time::Duration};

use futures::{channel::oneshot, stream, StreamExt};
use gloo_net::eventsource::futures::EventSource;
use leptos::prelude::{on_cleanup, set_timeout};
use send_wrapper::SendWrapper;

use crate::{config::StoreEntry, history::Change};

use super::{encode, session::Session};

/// What the feed tells its subscriber.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedEvent {
    /// A write to one model.
    Change(Change),
    /// Events may have been missed: reload what is shown, then carry on.
    Reset,
}

/// The first pause before a failed stream is opened again; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Follows `store`'s change feed until the current reactive owner is cleaned up, calling
/// `on_event` for each event. Must run inside a Leptos owner (a component or an effect).
///
/// `after` is where to start: the cursor a list came with ([`super::store_api::Listed`]), so
/// what was written between the list and the feed's opening comes too. With `None` the feed
/// starts from its next event.
pub fn watch(
    session: Session,
    store: StoreEntry,
    after: Option<String>,
    on_event: impl Fn(FeedEvent) + 'static,
) {
    let open: Rc<RefCell<Option<EventSource>>> = Rc::default();
    let stopped = Rc::new(RefCell::new(false));
    {
        let (open, stopped) = (
            SendWrapper::new(open.clone()),
            SendWrapper::new(stopped.clone()),
        );
        on_cleanup(move || {
            *stopped.borrow_mut() = true;
            // Closing makes the subscriptions end, so the task below returns.
            if let Some(es) = open.borrow_mut().take() {
                es.close();
            }
        });
    }
    leptos::task::spawn_local(async move {
        let mut cursor = after;
        let mut pause = FIRST_PAUSE;
        let mut first = true;
        while !*stopped.borrow() {
            let token = session.fresh_token().await.unwrap_or_default();
            let mut url = format!("{}/api/changes?access_token={}", store.url, encode(&token));
            if let Some(c) = &cursor {
                url.push_str("&after=");
                url.push_str(&encode(c));
            }
            let Ok(mut es) = EventSource::new(&url) else {
                return;
            };
            let (Ok(changes), Ok(resets)) = (es.subscribe("change"), es.subscribe("reset")) else {
                return;
            };
            *open.borrow_mut() = Some(es);
            if *stopped.borrow() {
                break;
            }
            // Reopened without a cursor: whatever happened in between is unknown.
            if !first && cursor.is_none() {
                on_event(FeedEvent::Reset);
            }
            first = false;
            let mut events = stream::select(changes, resets);
            while let Some(Ok((kind, msg))) = events.next().await {
                pause = FIRST_PAUSE;
                let id = msg.last_event_id();
                if !id.is_empty() {
                    cursor = Some(id);
                }
                if kind == "reset" {
                    on_event(FeedEvent::Reset);
                } else if let Some(change) = msg
                    .data()
                    .as_string()
                    .and_then(|d| serde_json::from_str::<Change>(&d).ok())
                {
                    on_event(FeedEvent::Change(change));
                }
            }
            drop(events);
            if let Some(es) = open.borrow_mut().take() {
                es.close();
            }
            if *stopped.borrow() {
                break;
            }
            sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    });
}

async fn sleep(d: Duration) {
    let (tx, rx) = oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        d,
    );
    let _ = rx.await;
}
