//! A three-way merge of two edits on a ~1 MiB model, in wasm in headless Chromium, against
//! `JSON.parse` of the same three documents in the same run (the peer, so the figure reads as
//! a ratio). A benchmark, not part of the suite: `bench/editor_merge_wasm.sh` runs it and
//! BENCHMARKS.md records its figures. It checks the merge's outcome, never its time.
#![cfg(target_arch = "wasm32")]

use sa_editor::merge::merge;
use serde_json::json;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

mod support {
    pub mod big_model;
}
use support::big_model::model;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

#[wasm_bindgen_test]
fn merge_of_two_edits_on_a_one_mebibyte_model() {
    let base = model(1 << 20);
    let base_text = base.to_string();
    let mut theirs = base.clone();
    theirs["layers"][3]["label"] = json!("renamed by them");
    let mut mine = base.clone();
    mine["meta"]["author"] = json!("me");
    let texts = [base_text.clone(), theirs.to_string(), mine.to_string()];

    let (mut merges, mut parses) = (Vec::new(), Vec::new());
    for _ in 0..11 {
        let start = now();
        let merged = merge(&base, &theirs, &mine);
        merges.push(now() - start);
        assert!(merged.is_clean() && merged.mine == 1 && merged.theirs == 1);
        assert_eq!(merged.value["meta"]["author"], "me");
        assert_eq!(merged.value["layers"][3]["label"], "renamed by them");

        let start = now();
        for t in &texts {
            std::hint::black_box(js_sys::JSON::parse(t).unwrap());
        }
        parses.push(now() - start);
    }
    let (m, p) = (median(merges), median(parses));
    console_log!(
        "model {} B; three-way merge: median {m:.1} ms over 11 runs; peer JSON.parse of the three documents: median {p:.1} ms; ratio {:.2}x",
        base_text.len(),
        m / p
    );
}
