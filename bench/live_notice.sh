#!/usr/bin/env bash
# B's save → A's page in the browser, p50 and p99 over 50 saves, against a bare EventSource on
# the same feed in the same page (BENCHMARKS.md, issue 14). Needs `cargo xtask build` first.
# Usage: bench/live_notice.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SA_DIST="${SA_DIST:-$PWD/dist}" cargo test -p sa-server --test browser_live_bench -- --nocapture 2>&1 | grep -o 'BENCH .*'
