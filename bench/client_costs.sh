#!/usr/bin/env bash
# What each part of the client costs in its wasm, brotli-compressed: the client is built again
# with one part taken out at a time, and the difference is that part's cost (its own code plus
# the Leptos code instantiated only for it). Also the client's shell alone (header, session,
# runtime config, the "no such page" page) and a one-button Leptos app, as floors.
#
# usage: bench/client_costs.sh        (about 2 to 5 minutes; needs `cargo xtask build` tools)
# The build is the one `cargo xtask build` makes (xtask/src/apps.rs: the same flags and
# wasm-opt settings) on a copy of HEAD, in its own target dir (target/wasm-costs), so neither the
# working tree nor the build bench/wasm_breakdown.sh reads is touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
for tool in trunk wasm-opt brotli python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run cargo xtask build once (brotli: apt-get install brotli)" >&2; exit 1; }
done
flags=$(sed -n 's/^const SIZE_RUSTFLAGS: &str = "\(.*\)";$/\1/p' "$root/xtask/src/apps.rs")
std=$(sed -n 's/^const BUILD_STD: &str = "\(.*\)";$/\1/p' "$root/xtask/src/apps.rs")
[ -n "$flags" ] && [ -n "$std" ] || { echo "cannot read the build flags from xtask/src/apps.rs" >&2; exit 1; }
export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD="$std" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" \
  CARGO_TARGET_DIR="$root/target/wasm-costs" TRUNK_SKIP_VERSION_CHECK=true NO_COLOR=true

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
git -C "$root" archive HEAD | tar -x -C "$work"
cp "$work/client/src/app.rs" "$work/app.rs.orig"; cp "$work/client/src/main.rs" "$work/main.rs.orig"

size() { # builds the client as the tree now is; prints the brotli size of its wasm
  rm -rf "$work/dist"
  (cd "$work" && trunk build --release --offline --dist "$work/dist" client/index.html) >"$work/build.log" 2>&1 \
    || { tail -20 "$work/build.log" >&2; exit 1; }
  brotli -q 11 -c "$work"/dist/*.wasm | wc -c
}

without() { # restores the sources, then takes out the named parts (see the Python below)
  cp "$work/app.rs.orig" "$work/client/src/app.rs"; cp "$work/main.rs.orig" "$work/client/src/main.rs"
  python3 - "$work/client/src" "$@" <<'EOF'
import re, sys
src, parts = sys.argv[1], sys.argv[2:]
app = open(f'{src}/app.rs').read()
for p in parts:
    if p == 'ExplorerDialog':
        new = app.replace('<ExplorerDialog session=session open=explorer_open />', '')
    elif p == 'counter':
        open(f'{src}/main.rs', 'w').write(
            '#![allow(dead_code, unused)]\nmod app;\nmod components;\nmod explorer_dialog;\nmod pages;\n'
            'use leptos::prelude::*;\nfn main() {\n    leptos::mount::mount_to_body(|| {\n'
            '        let n = RwSignal::new(0);\n'
            '        view! { <button on:click=move |_| n.update(|n| *n += 1)>{move || n.get()}</button> }\n'
            '    });\n}\n')
        continue
    else:
        new = re.sub(r'view! \{ <' + p + r' [^}]*\}\.into_any\(\)', '().into_any()', app)
    if new == app:
        sys.exit(f'client/src/app.rs no longer has {p}: update bench/client_costs.sh')
    app = new
open(f'{src}/app.rs', 'w').write(app)
EOF
}

pages=(WorkspacePage LoginPage RegisterPage NewModelPage ModelPage AdminPage)
without; full=$(size)
printf '%-44s %9s %9s\n' "client wasm, brotli" bytes "cost"
printf '%-44s %9d\n' "whole client" "$full"
for part in ExplorerDialog "${pages[@]}"; do
  without "$part"; s=$(size)
  printf '%-44s %9d %9d\n' "without $part" "$s" $((full - s))
done
without ExplorerDialog "${pages[@]}"; s=$(size)
printf '%-44s %9d %9d\n' "shell only (no pages, no explorer)" "$s" $((full - s))
without counter; s=$(size)
printf '%-44s %9d\n' "a one-button Leptos app, same build" "$s"
