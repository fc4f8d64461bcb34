#!/usr/bin/env bash
# Benchmarks `sa-server static` against nginx on the same files in the same run, on loopback.
#
#   bench/static.sh            # dist: $SA_BENCH_DIST, else dist/client, else the test fixture
#   DURATION=6s CONNECTIONS=64 ROUNDS=2 bench/static.sh
#
# nginx: 2 workers, sendfile, gzip_static (Debian's nginx has no brotli module, so the brotli
# row compares sa's .br against nginx's .gz). Access logs are off on both sides: this measures
# serving, not log writing. sa must be built first: cargo build --profile server -p sa-server
# Prints a markdown fragment (docs/bench/static.md keeps the recorded one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-6s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
SA_BIN=${SA_BIN:-$ROOT/target/server/sa-server}

need() { command -v "$1" >/dev/null || { echo "$1 not found: $2" >&2; exit 1; }; }
need nginx "apt-get install -y nginx"
need wrk "apt-get install -y wrk"
need brotli "apt-get install -y brotli"
[ -x "$SA_BIN" ] || { echo "$SA_BIN missing: cargo build --profile server -p sa-server" >&2; exit 1; }

WORK=$(mktemp -d)
chmod 755 "$WORK" # nginx workers run as www-data
NGINX_PID= SA_PID=
cleanup() {
  [ -n "$SA_PID" ] && kill "$SA_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && wait "$NGINX_PID" 2>/dev/null || true
  [ -n "$SA_PID" ] && wait "$SA_PID" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# One copy of the files for both servers, so a rebuild during the run can't skew it.
SRC=${SA_BENCH_DIST:-}
if [ -z "$SRC" ] && [ -f "$ROOT/dist/client/index.html" ]; then SRC=$ROOT/dist/client; fi
mkdir -p "$WORK/dist"
if [ -n "$SRC" ]; then
  cp -R "$SRC/." "$WORK/dist/"
  DIST_NOTE="app build from \`${SRC#"$ROOT"/}\`"
else
  cp -R "$ROOT/server/tests/fixtures/static/dist/." "$WORK/dist/"
  DIST_NOTE="test fixture (no app build found; its wasm is tiny, so the wasm rows say little)"
fi
for f in "$WORK"/dist/*.html "$WORK"/dist/*.js "$WORK"/dist/*.wasm "$WORK"/dist/*.css; do
  [ -f "$f" ] || continue
  [ -f "$f.br" ] || brotli -k -q 11 "$f"
  [ -f "$f.gz" ] || gzip -k -9 "$f"
done
WASM=$(cd "$WORK/dist" && ls ./*_bg.wasm | head -1)
WASM=${WASM#./}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
NGINX_PORT=$(free_port)
SA_PORT=$(free_port)

wait_up() {
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/index.html" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing answers on port $1" >&2
  exit 1
}
RUST_LOG=warn "$SA_BIN" static --app client --dir "$WORK/dist" --listen "127.0.0.1:$SA_PORT" &
SA_PID=$!
wait_up "$SA_PORT"

# nginx sends the same security headers as sa, so both put the same bytes on the wire.
SAME_HEADERS=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$SA_PORT/index.html" | tr -d '\r' \
  | grep -iE '^(content-security-policy|x-content-type-options|referrer-policy|x-frame-options|cross-origin-opener-policy):' \
  | sed -E 's/^([^:]+): (.*)$/    add_header \1 "\2" always;/')
mkdir -p "$WORK/nginx-tmp"
cat >"$WORK/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  gzip_static on;
  gzip_vary on;
  client_body_temp_path $WORK/nginx-tmp/body;
  proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
  scgi_temp_path $WORK/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/dist;
    location / { try_files \$uri /index.html; }
$SAME_HEADERS
  }
}
EOF
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!

wait_up "$NGINX_PORT"
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')

# Both must hand out the same bytes for the same request, or the comparison is void.
for enc in identity gzip; do
  a=$(curl -fsS -H "Accept-Encoding: $enc" "http://127.0.0.1:$NGINX_PORT/$WASM" | sha256sum)
  b=$(curl -fsS -H "Accept-Encoding: $enc" "http://127.0.0.1:$SA_PORT/$WASM" | sha256sum)
  [ "$a" = "$b" ] || { echo "nginx and sa differ for $WASM with $enc" >&2; exit 1; }
done
curl -fsS -H 'Accept-Encoding: br' -D - -o /dev/null "http://127.0.0.1:$SA_PORT/$WASM" | grep -qi '^content-encoding: br' \
  || { echo "sa did not serve brotli for $WASM" >&2; exit 1; }

rss_kb() { ps -o rss= -p "$SA_PID" | tr -d ' '; }
IDLE_RSS=$(rss_kb)

# CPU ticks (user + system) of the server's processes, for CPU time per request: the one
# figure here that other load on the machine barely moves.
TICK=$(getconf CLK_TCK)
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }

# wrk prints "Requests/sec: N", "N requests in" and, with --latency, "99%  1.23ms"; p99 in ms.
run() { # port path encoding pids... -> "rps p99ms cpu_us_per_request"
  local port=$1 path=$2 enc=$3 out before after
  shift 3
  before=$(cpu_ticks "$@")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/$path")
  after=$(cpu_ticks "$@")
  echo "$out" >>"$WORK/wrk.log"
  echo "$out" | awk -v ticks=$((after - before)) -v hz="$TICK" '
    /Requests\/sec/ {rps = $2}
    /requests in/ {n = $1}
    $1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; p99 = v}
    END {print rps, p99, ticks / hz * 1e6 / n}'
}

MAX_RSS=$IDLE_RSS
sample_rss() { # keeps the highest RSS seen while a run is going
  while kill -0 "$SA_PID" 2>/dev/null && [ ! -f "$WORK/stop-sampling" ]; do
    local r; r=$(rss_kb); [ "${r:-0}" -gt "$(cat "$WORK/max-rss" 2>/dev/null || echo 0)" ] && echo "$r" >"$WORK/max-rss"
    sleep 0.5
  done
}
echo "$IDLE_RSS" >"$WORK/max-rss"
sample_rss &
SAMPLER=$!

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
avg() { awk -v x="$1" -v r="$ROUNDS" 'BEGIN { print x / r }'; }
add() { awk -v x="$1" -v y="$2" 'BEGIN { print x + y }'; }
row() { # label path sa-encoding nginx-encoding; ROUNDS alternating runs each, averaged
  local n_rps=0 n_p99=0 n_cpu=0 s_rps=0 s_p99=0 s_cpu=0 a b c
  for _ in $(seq 1 "$ROUNDS"); do
    read -r a b c < <(run "$NGINX_PORT" "$2" "$4" $NGINX_WORKERS)
    n_rps=$(add "$n_rps" "$a"); n_p99=$(add "$n_p99" "$b"); n_cpu=$(add "$n_cpu" "$c")
    read -r a b c < <(run "$SA_PORT" "$2" "$3" "$SA_PID")
    s_rps=$(add "$s_rps" "$a"); s_p99=$(add "$s_p99" "$b"); s_cpu=$(add "$s_cpu" "$c")
  done
  printf '| %s | %.0f | %.0f | **%s×** | %.2f | %.2f | %s× | %.1f | %.1f |\n' "$1" "$(avg "$n_rps")" "$(avg "$s_rps")" "$(ratio "$s_rps" "$n_rps")" \
    "$(avg "$n_p99")" "$(avg "$s_p99")" "$(ratio "$s_p99" "$n_p99")" "$(avg "$n_cpu")" "$(avg "$s_cpu")"
}

WASM_SIZE=$(stat -c %s "$WORK/dist/$WASM")
BR_SIZE=$(stat -c %s "$WORK/dist/$WASM.br")
GZ_SIZE=$(stat -c %s "$WORK/dist/$WASM.gz")
INDEX_SIZE=$(stat -c %s "$WORK/dist/index.html")

echo "Files: $DIST_NOTE. \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, loopback, nginx $(nginx -v 2>&1 | sed 's|.*/||') with 2 workers; nginx and sa take turns, $ROUNDS runs each per row, averaged; wrk shares the same 2 cores."
hdr_bytes() { curl -fsS -D - -o /dev/null "http://127.0.0.1:$1/index.html" | wc -c; }
echo "Both send the same security headers; response header bytes for \`index.html\`: nginx $(hdr_bytes "$NGINX_PORT"), sa $(hdr_bytes "$SA_PORT")."
echo
echo "| request | nginx req/s | sa req/s | req/s sa/nginx | nginx p99 ms | sa p99 ms | p99 sa/nginx (lower is better) | nginx CPU µs/req | sa CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|"
row "\`index.html\` ($INDEX_SIZE B), identity" index.html identity identity
row "\`.wasm\` gzip both ($GZ_SIZE B)" "$WASM" gzip gzip
row "\`.wasm\` sa brotli ($BR_SIZE B) vs nginx gzip ($GZ_SIZE B)" "$WASM" br gzip
row "\`.wasm\` identity both ($WASM_SIZE B)" "$WASM" identity identity
touch "$WORK/stop-sampling"
wait "$SAMPLER" 2>/dev/null || true
echo
echo "sa-server static RSS: idle $((IDLE_RSS / 1024)) MiB ($IDLE_RSS KiB), highest under load $(( $(cat "$WORK/max-rss") / 1024 )) MiB ($(cat "$WORK/max-rss") KiB) (ps -o rss, sampled every 0.5 s)."
