#!/usr/bin/env bash
# A three-way merge of two edits on a ~1 MiB model, in wasm in headless Chromium, against
# JSON.parse of the same documents (editor/tests/merge_bench.rs). Prints the medians.
# Needs what `cargo xtask setup` and `cargo xtask test` install (wasm-bindgen-test-runner,
# chromium, chromedriver).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export WASM_BINDGEN_TEST_TIMEOUT=300
cargo test --release -p sa-editor --target wasm32-unknown-unknown --test merge_bench -- --nocapture 2>&1 \
  | grep -E "three-way merge|test result|panicked"
