//! `GET /api/changes`: the change feed as Server-Sent Events.
//!
//! A subscriber that resumes (`Last-Event-ID` or `?after=`) first reads what it missed from the
//! backend, then the live fan-out. It joins the fan-out before it reads the backlog and skips
//! every live event at or below the last cursor it sent, so nothing is lost between the two and
//! nothing comes twice.
use std::{collections::VecDeque, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{Query, State},
    http::{HeaderMap, HeaderValue},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Extension,
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{model::Result, versions::bad_cursor, App};
use crate::store::{
    backend::{Backend, ChangeEvent, Cursor},
    error::StoreError,
    feed::{Feed, Item, Subscription, BATCH},
    jwt::Principal,
};

pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
const READY_WAIT: Duration = Duration::from_secs(2);

type Params = std::result::Result<
    Query<std::collections::HashMap<String, String>>,
    axum::extract::rejection::QueryRejection,
>;

pub async fn stream<B: Backend>(
    State(app): State<Arc<App<B>>>,
    Extension(caller): Extension<Arc<Principal>>,
    headers: HeaderMap,
    query: Params,
) -> Result<Response> {
    let Query(params) = query.map_err(|e| {
        StoreError::bad_request(
            "bad_query",
            format!("the query string is not readable: {e}"),
        )
    })?;
    let raw = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().map_err(|_| bad_cursor())?.to_string()),
        None => params.get("after").cloned(),
    };
    let after = match raw.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => Some(
            Cursor::parse(c)
                .filter(|c| app.backend.cursor_ok(c))
                .ok_or_else(bad_cursor)?,
        ),
    };
    let only = caller
        .model
        .as_deref()
        .and_then(|m| Uuid::parse_str(m).ok());
    // A subscriber that joins before the reader follows the backend could miss a write.
    if !app.feed.ready(READY_WAIT).await {
        return Err(StoreError::unavailable(
            "the change feed cannot read the storage backend yet; try again shortly",
        ));
    }
    let sub = app.feed.subscribe().ok_or_else(|| {
        StoreError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too_many_subscribers",
            "this store serves as many change-feed streams as it may; try again shortly",
        )
    })?;
    let state = Subscriber {
        backend: app.backend.clone(),
        feed: app.feed.clone(),
        sub,
        last: after,
        catching_up: after.is_some(),
        pending: VecDeque::new(),
        only,
        done: false,
    };
    let events = futures_util::stream::unfold(state, next_event);
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Proxies that buffer responses (nginx) pass this one through as it comes.
    res.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

struct Subscriber<B> {
    backend: Arc<B>,
    feed: Arc<Feed>,
    sub: Subscription,
    /// The last cursor sent (or resumed from).
    last: Option<Cursor>,
    /// Still reading the backlog from the backend.
    catching_up: bool,
    pending: VecDeque<Event>,
    only: Option<Uuid>,
    done: bool,
}

impl<B: Backend> Subscriber<B> {
    fn take(&mut self, e: &ChangeEvent) {
        self.last = Some(e.cursor);
        if self.only.is_none_or(|id| id == e.id) {
            let data = serde_json::to_string(&e.wire()).unwrap_or_default();
            self.pending.push_back(
                Event::default()
                    .event("change")
                    .id(e.cursor.to_string())
                    .data(data),
            );
        }
    }

    fn reset(&mut self, head: Cursor) {
        self.last = Some(head);
        self.pending.push_back(
            Event::default()
                .event("reset")
                .id(head.to_string())
                .data("{}"),
        );
    }
}

async fn next_event<B: Backend>(
    mut s: Subscriber<B>,
) -> Option<(std::result::Result<Event, Infallible>, Subscriber<B>)> {
    loop {
        if let Some(ev) = s.pending.pop_front() {
            s.feed.sent();
            return Some((Ok(ev), s));
        }
        if s.done {
            return None;
        }
        if s.catching_up {
            let after = s.last.unwrap_or_default();
            match s.backend.changes(after, BATCH).await {
                Ok(read) if read.reset => {
                    s.catching_up = false;
                    match s.backend.head().await {
                        Ok(head) => s.reset(head),
                        Err(_) => s.done = true,
                    }
                }
                Ok(read) => {
                    s.catching_up = read.events.len() >= BATCH;
                    for e in &read.events {
                        s.take(e);
                    }
                }
                // The client resumes from its last cursor once the backend is back.
                Err(_) => s.done = true,
            }
            continue;
        }
        match s.sub.rx.recv().await {
            Ok(Item::Change(e)) => {
                if s.last.is_none_or(|l| e.cursor > l) {
                    s.take(&e);
                }
            }
            Ok(Item::Reset(head)) => s.reset(head),
            // Too slow for the live feed: drop it; it resumes from `last`.
            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => s.done = true,
        }
    }
}
