#!/usr/bin/env bash
# Where an app's wasm goes, by crate and by function, after wasm-bindgen and wasm-opt.
#
# usage: bench/wasm_breakdown.sh client|explorer [TOP] [PATTERN,PATTERN...] [CRATE]
#   PATTERN: total code of the functions whose name contains it (e.g. "pages::admin,loader::");
#   CRATE: that crate's TOP largest functions (pass "" as PATTERN to skip it).
# Needs a `cargo xtask build` first (it leaves the un-stripped wasm in target/wasm-size).
# The names are kept (wasm-opt -g), which makes the code a little larger than the shipped
# build; the shares are what matters.
set -euo pipefail
app=${1:?client or explorer}; top=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
wasm="$root/target/wasm-size/wasm32-unknown-unknown/release/sa-$app.wasm"
[ -f "$wasm" ] || { echo "no $wasm: run cargo xtask build first" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
wasm-bindgen "$wasm" --out-dir "$out" --target web --keep-debug >/dev/null
wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue "$out/sa-${app}_bg.wasm" -o "$out/opt.wasm"
python3 "$root/bench/wasm_breakdown.py" "$out/opt.wasm" "$top" "${3:-}" "${4:-}"
