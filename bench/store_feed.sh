#!/usr/bin/env bash
# Change-feed and history figures for BENCHMARKS.md: feed latency (1 and 100 subscribers) per
# backend against raw LISTEN/NOTIFY and XADD->XREAD, PUT throughput with versions against
# --keep-versions 0, and the RSS of 1,000 idle subscribers. Real Redis and PostgreSQL are
# started by the harness on loopback. Usage: bench/store_feed.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p sa-server "$@" --test store_feed_bench -- --ignored --nocapture --test-threads 1 2>&1 | grep -o 'BENCH .*'
