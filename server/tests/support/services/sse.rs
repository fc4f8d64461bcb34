//! A small Server-Sent Events reader over reqwest, for the change-feed tests.
use std::time::Duration;

/// How long a test waits for the next event before it fails.
pub const EVENT_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data {:?}: {e}", self.data))
    }
}

pub struct Sse {
    res: reqwest::Response,
    buf: String,
}

impl Sse {
    /// Opens `url` (GET, `Accept: text/event-stream`) and checks that a stream started.
    pub async fn open(req: reqwest::RequestBuilder) -> Sse {
        let res = req
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("GET /api/changes");
        assert_eq!(res.status(), 200, "the change feed did not open");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Sse {
            res,
            buf: String::new(),
        }
    }

    /// The next event (comments such as keep-alives are skipped); fails after [`EVENT_WAIT`].
    pub async fn next(&mut self) -> SseEvent {
        match self.next_within(EVENT_WAIT).await {
            Some(e) => e,
            None => panic!("no event within {EVENT_WAIT:?}"),
        }
    }

    /// The next event, or `None` when the stream ends or `wait` passes.
    pub async fn next_within(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                if let Some(e) = parse(&frame) {
                    return Some(e);
                }
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
    }
}

fn parse(frame: &str) -> Option<SseEvent> {
    let (mut event, mut id, mut data) = (String::from("message"), None, Vec::new());
    let mut any = false;
    for line in frame.lines() {
        if line.starts_with(':') || line.is_empty() {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        any = true;
        match field {
            "event" => event = value.to_string(),
            "id" => id = Some(value.to_string()),
            "data" => data.push(value.to_string()),
            _ => {}
        }
    }
    any.then(|| SseEvent {
        event,
        id,
        data: data.join("\n"),
    })
}
