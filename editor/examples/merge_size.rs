//! The merge and the diff alone in a wasm binary, to size them:
//! `cargo build --release -p sa-editor --example merge_size --target wasm32-unknown-unknown`.
//! The input comes from the arguments so that nothing is folded away.

use sa_editor::diff::{diff, render};
use sa_editor::merge::merge;
use serde_json::Value;

fn main() {
    let input: String = std::env::args().collect();
    let docs: Vec<Value> = input
        .split('\u{1}')
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    if let [base, theirs, mine] = &docs[..] {
        let merged = merge(base, theirs, mine);
        let lines = diff(base, &merged.value);
        print!("{}\n{}", merged.summary(), render(&lines, 80));
    }
}
