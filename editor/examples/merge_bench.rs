//! Times a three-way merge of two edits on a ~1 MiB model, against parsing the same three
//! documents with serde_json in the same run (the peer, so the figure reads as a ratio).
//!
//! `cargo run --release -p sa-editor --example merge_bench`

use std::time::{Duration, Instant};

use sa_editor::merge::merge;
use serde_json::{json, Value};

#[path = "../tests/support/big_model.rs"]
mod big_model;
use big_model::model;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let base = model(1 << 20);
    let base_text = base.to_string();
    let mut theirs = base.clone();
    theirs["layers"][3]["label"] = json!("renamed by them");
    let mut mine = base.clone();
    mine["meta"]["author"] = json!("me");
    let (theirs_text, mine_text) = (theirs.to_string(), mine.to_string());

    let rounds = 15;
    let mut merges = Vec::new();
    let mut parses = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let merged = merge(&base, &theirs, &mine);
        merges.push(start.elapsed());
        assert!(merged.is_clean() && merged.mine == 1 && merged.theirs == 1);

        let start = Instant::now();
        for text in [&base_text, &theirs_text, &mine_text] {
            std::hint::black_box(serde_json::from_str::<Value>(text).unwrap());
        }
        parses.push(start.elapsed());
    }
    let (m, p) = (median(merges), median(parses));
    println!(
        "model: {} bytes, {} layers",
        base_text.len(),
        base["layers"].as_array().unwrap().len()
    );
    println!(
        "three-way merge of two edits: median {:.2} ms over {rounds} runs",
        m.as_secs_f64() * 1e3
    );
    println!(
        "peer, serde_json parse of the three documents: median {:.2} ms",
        p.as_secs_f64() * 1e3
    );
    println!(
        "ratio merge / parse: {:.2}x",
        m.as_secs_f64() / p.as_secs_f64()
    );
}
