//! Prometheus metrics of one store instance. Each instance has its own registry, so the three
//! stores of `sa-server dev` (and the stores of a test process) don't mix their counts.
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    pub tokens: IntCounterVec,
    /// Open `/api/changes` streams.
    pub feed_subscribers: IntGauge,
    /// Change events written to subscribers.
    pub feed_events: IntCounter,
}

impl Metrics {
    pub fn new(backend: &str, name: &str) -> Metrics {
        let labels = [
            ("backend".to_string(), backend.to_string()),
            ("store".to_string(), name.to_string()),
        ]
        .into_iter()
        .collect();
        let registry = Registry::new_custom(Some("sa_store".into()), Some(labels))
            .expect("static prefix is valid");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("static metric");
        let duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["route", "method"],
        )
        .expect("static metric");
        let tokens = IntCounterVec::new(
            Opts::new("token_checks_total", "Bearer token checks by outcome"),
            &["outcome"],
        )
        .expect("static metric");
        let feed_subscribers =
            IntGauge::new("feed_subscribers", "Open change-feed streams").expect("static metric");
        let feed_events = IntCounter::new(
            "feed_events_sent_total",
            "Change events sent to subscribers",
        )
        .expect("static metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(tokens.clone()),
            Box::new(feed_subscribers.clone()),
            Box::new(feed_events.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            duration,
            tokens,
            feed_subscribers,
            feed_events,
        }
    }

    pub fn render(&self) -> Response {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        (
            [(
                axum::http::header::CONTENT_TYPE,
                encoder.format_type().to_string(),
            )],
            buf,
        )
            .into_response()
    }
}

/// Counts and times every request by its route template (never the raw path: ids would explode
/// the label set).
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", |p| p.as_str());
    let method = req.method().clone();
    let start = Instant::now();
    let res = next.run(req).await;
    metrics
        .duration
        .with_label_values(&[route, method.as_str()])
        .observe(start.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[route, method.as_str(), res.status().as_str()])
        .inc();
    res
}
