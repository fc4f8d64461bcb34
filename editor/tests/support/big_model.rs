//! The ~1 MiB model that the merge benchmarks edit: layers of a plausible network, each with a
//! label, a few numbers and a note, repeated until the text reaches the size asked for.
use serde_json::{json, Value};

pub fn model(target_bytes: usize) -> Value {
    let mut layers = Vec::new();
    let mut size = 0;
    let mut i = 0;
    while size < target_bytes {
        let layer = json!({
            "label": format!("layer {i}"),
            "kind": if i % 3 == 0 { "dense" } else { "conv" },
            "units": i * 7 % 512,
            "weights": (0..8).map(|k| (i * 31 + k) as f64 / 97.0).collect::<Vec<_>>(),
            "notes": {"created": "2026-12-01T10:00:00Z", "by": format!("user{}", i % 17)},
        });
        size += layer.to_string().len() + 1;
        layers.push(layer);
        i += 1;
    }
    json!({"meta": {"author": "ann", "title": "Big model"}, "layers": layers})
}
