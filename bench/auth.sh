#!/usr/bin/env bash
# Benchmarks of the auth role (sa-server auth), on loopback only, bounded in time:
#   1. login latency at the OWASP argon2id cost, against the same server with the cheapest cost
#      and against /healthz (the HTTP floor), all in this run;
#   2. token refresh throughput (each refresh rotates the cookie and fsyncs the session file);
#   3. JWKS: full fetches against conditional fetches (If-None-Match -> 304), and its cache headers.
# Prints a markdown table; docs/bench/auth.md has the figures of a run.
#
# Usage: bench/auth.sh            (DUR=5 seconds per measurement; needs wrk and curl)
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-5}
BIN=${BIN:-target/server/sa-server}
ORIGIN=http://client.bench.localhost
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install -y $tool" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
  echo "building $BIN (cargo build --profile server -p sa-server)…" >&2
  cargo build --profile server -p sa-server >&2
fi

WORK=$(mktemp -d)
PIDS=()
SHM=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK" "${SHM:-}"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_auth NAME EXTRA_ARGS… -> sets PORT_<NAME>
start_auth() {
  local name=$1; shift
  local port; port=$(free_port)
  local dir="${DATA_ROOT:-$WORK}/$name"
  # The user is registered through the API below, so its hash has this server's cost.
  "$BIN" auth --listen "127.0.0.1:$port" --data-dir "$dir" --issuer "http://127.0.0.1:$port" \
    --allowed-origins "$ORIGIN" --rate-ip-per-minute 100000000 --rate-account-per-minute 100000000 "$@" \
    >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "auth $name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  curl -fs -o /dev/null -H "Origin: $ORIGIN" -H "Content-Type: application/json" -d '{"username":"bench","password":"load-test-secret-1"}' "http://127.0.0.1:$port/api/register"
  printf -v "PORT_$name" "%s" "$port"
}

cat >"$WORK/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"load-test-secret-1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "$ORIGIN"
EOF

# Each wrk thread has one connection and its own sign-in (refresh family), and follows the
# rotated cookie from every response, as a browser would.
cat >"$WORK/refresh.lua" <<EOF
local cookies = {}
for line in io.lines("$WORK/cookies.txt") do cookies[#cookies + 1] = line end
local n = 0
function setup(thread)
  n = n + 1
  thread:set("cookie", cookies[n])
end
function request()
  return wrk.format("POST", "/api/token", { ["Cookie"] = "__Host-sa_refresh=" .. cookie, ["Origin"] = "$ORIGIN" })
end
function response(status, headers, body)
  local sc = headers["set-cookie"] or headers["Set-Cookie"]
  if sc then
    local v = sc:match("__Host%-sa_refresh=([^;]*)")
    if v and v ~= "" then cookie = v end
  end
end
EOF

# run_wrk LABEL ARGS… -> one table row: label | req/s | mean | p50 | p99 | non-2xx
run_wrk() {
  local label=$1; shift
  local out; out=$(wrk --latency -d"${DUR}s" "$@")
  local rps mean p50 p99 bad
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  mean=$(awk '$1=="Latency" {print $2; exit}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $5}' <<<"$out"); bad=${bad:-0}
  echo "| $label | $rps | $mean | $p50 | $p99 | $bad |"
  printf '%s' "$rps" >"$WORK/rps_$(echo "$label" | tr -c 'a-zA-Z0-9' '_')"
}

start_auth owasp
start_auth cheap --argon2-memory-kib 64 --argon2-iterations 1
O="http://127.0.0.1:$PORT_owasp"
C="http://127.0.0.1:$PORT_cheap"

echo "## sa-server auth, $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg), wrk ${DUR}s per row"
echo
echo "| what | req/s | mean | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run_wrk "GET /healthz (HTTP floor), c1" -t1 -c1 "$O/healthz"
run_wrk "login, OWASP argon2id (m=19456 KiB, t=2, p=1), c1" -t1 -c1 -s "$WORK/login.lua" "$O/api/login"
run_wrk "login, OWASP argon2id, c2 (one per core)" -t2 -c2 -s "$WORK/login.lua" "$O/api/login"
run_wrk "login, OWASP argon2id, c8 (queued behind the hash permits)" -t2 -c8 -s "$WORK/login.lua" "$O/api/login"
run_wrk "login, cheapest argon2 (m=64 KiB, t=1), c1" -t1 -c1 -s "$WORK/login.lua" "$C/api/login"

# bench_refresh BASE_URL LABEL: one sign-in per wrk thread, then refresh with rotation.
bench_refresh() {
  local base=$1 label=$2 threads
  for threads in 1 2; do
    : >"$WORK/cookies.txt"
    for _ in $(seq 1 "$threads"); do
      curl -fs -D - -o /dev/null -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
        -d '{"username":"bench","password":"load-test-secret-1"}' "$base/api/login" |
        sed -n 's/^set-cookie: __Host-sa_refresh=\([^;]*\).*/\1/Ip' >>"$WORK/cookies.txt"
    done
    run_wrk "refresh with rotation, $label, c$threads" -t"$threads" -c"$threads" -s "$WORK/refresh.lua" "$base/api/token"
  done
}
bench_refresh "$O" "file store on $(df -T "$WORK" | awk 'NR==2 {print $2}') (fsync)"
# Peer: the same service with its data dir on tmpfs, where fsync costs nothing.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d -p /dev/shm sa-auth-bench.XXXXXX)
  DATA_ROOT=$SHM start_auth tmpfs --argon2-memory-kib 64 --argon2-iterations 1
  bench_refresh "http://127.0.0.1:$PORT_tmpfs" "file store on tmpfs (fsync is free)"
fi

ETAG=$(curl -fs -D - -o /dev/null "$O/.well-known/jwks.json" | sed -n 's/^etag: *//Ip' | tr -d '\r')
run_wrk "GET jwks.json (200, full body), c16" -t1 -c16 "$O/.well-known/jwks.json"
run_wrk "GET jwks.json If-None-Match (304), c16" -t1 -c16 -H "If-None-Match: $ETAG" "$O/.well-known/jwks.json"
run_wrk "GET /healthz, c16" -t1 -c16 "$O/healthz"

echo
echo "JWKS response headers:"
echo '```'
curl -fs -D - -o /dev/null "$O/.well-known/jwks.json" | grep -iE '^(etag|cache-control|content-length)' | tr -d '\r'
echo "conditional: $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$O/.well-known/jwks.json")"
echo '```'
echo "data dir filesystem: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
