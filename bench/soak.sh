#!/usr/bin/env bash
# Soak of `sa-server store`, per backend (file, redis, postgres), with auth on, on loopback:
#   1. 64-way mixed load for $DUR s: 3/4 GET of one of 1,000 seeded models, 1/4 POST of a new
#      model (wrk + Lua): req/s, p99, non-2xx, and the store's RSS every $STEP s;
#   2. then $DUR s of reads only: the RSS drift between its start and its end.
# The peer measured in the same run is redis-server's own RSS, which holds the Redis data.
# Then the idle and loaded RSS of the other roles (static under 64 connections, auth under
# 64 concurrent logins), which k8s/src/checks/memory.rs sizes the manifests by.
# Usage: bench/soak.sh   (env: DUR=60 STEP=10 CONN=64 THREADS=2 CACHE_BYTES=67108864
#                          SA_SERVER_BIN=target/server/sa-server)
# Needs: wrk, redis-server, PostgreSQL 15 (pg_ctl), openssl, python3, curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-60}
STEP=${STEP:-10}
CONN=${CONN:-64}
THREADS=${THREADS:-2}
CACHE_BYTES=${CACHE_BYTES:-67108864}
BIN=${SA_SERVER_BIN:-$ROOT/target/server/sa-server}
PG_BIN=${SA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
for tool in wrk redis-server openssl python3 curl "$PG_BIN/pg_ctl"; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk redis-server postgresql openssl python3 curl" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --profile server -p sa-server)
fi

WORK=$(mktemp -d /tmp/sa-soak.XXXXXX)
chmod 755 "$WORK"
PIDS=()
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/pg" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
say() { echo "[soak $(date +%T)] $*" >&2; }
wait_http() { for _ in $(seq 1 400); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# --- a signing key, its JWKS and a writer token (RS256 via openssl) ---------------------------
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
MOD_HEX=$(openssl rsa -in "$WORK/key.pem" -noout -modulus | cut -d= -f2)
N=$(python3 -c "import base64; print(base64.urlsafe_b64encode(bytes.fromhex('$MOD_HEX')).decode().rstrip('='))")
echo "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"soak\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"$N\",\"e\":\"AQAB\"}]}" > "$WORK/jwks.json"
echo '[{"issuer":"https://auth.soak.example","jwks_file":"jwks.json","audiences":["sa"]}]' > "$WORK/issuers.json"
NOW=$(date +%s)
HDR=$(printf '{"alg":"RS256","typ":"JWT","kid":"soak"}' | b64url)
PAY=$(printf '{"iss":"https://auth.soak.example","aud":"sa","sub":"soak","name":"soak","roles":["writer"],"iat":%d,"nbf":%d,"exp":%d,"jti":"s"}' "$NOW" "$NOW" $((NOW + 7200)) | b64url)
SIG=$(printf '%s.%s' "$HDR" "$PAY" | openssl dgst -sha256 -sign "$WORK/key.pem" | b64url)
export TOKEN="$HDR.$PAY.$SIG"

# --- the document: a ~1.2 KB model -------------------------------------------------------------
python3 - "$WORK/doc.json" <<'PY'
import json, sys
doc = {"name": "Soak plant", "units": "SI", "blocks": [{"id": f"b{i}", "kind": "pump", "x": i * 10, "y": i * 7, "params": {"flow": i * 0.5}} for i in range(12)]}
open(sys.argv[1], "w").write(json.dumps(doc, separators=(",", ":")))
PY
export DOC_FILE="$WORK/doc.json"
DOC_SIZE=$(stat -c %s "$DOC_FILE")

# --- backends ---------------------------------------------------------------------------------
say "starting redis and PostgreSQL"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 &
REDIS_PID=$!
PIDS+=($REDIS_PID)
PG_PORT=$(free_port)
mkdir -p "$WORK/pg" "$WORK/pgsock"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK/pg" "$WORK/pgsock"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pgsock/log" -o "-p $PG_PORT -k $WORK/pgsock -c listen_addresses=127.0.0.1" -w start >/dev/null
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE store'

cat > "$WORK/mixed.lua" <<'EOF'
local f = io.open(os.getenv("DOC_FILE")); local body = f:read("*a"); f:close()
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local auth = "Bearer " .. os.getenv("TOKEN")
local reads_only = os.getenv("READS_ONLY") == "1"
request = function()
  if reads_only or math.random(4) > 1 then
    return wrk.format("GET", "/api/model/" .. ids[math.random(#ids)], { ["Authorization"] = auth })
  end
  return wrk.format("POST", "/api/model", { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, body)
end
EOF
# "req/s p99_ms non2xx" of one wrk run.
run_wrk() {
  wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency -s "$WORK/mixed.lua" "$1" 2>/dev/null | awk '
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v = v * 1000 } ; p99 = v }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %s\n", rps, p99, (bad == "" ? 0 : bad) }'
}
# RSS of PID every STEP s for DUR s (in the background); writes "t:MiB ..." to FILE.
sample_rss() { # pid file
  local pid=$1 out=$2 t=0
  : > "$out"
  while [ "$t" -le "$DUR" ]; do
    printf '%s:%s ' "$t" "$(rss_mib "$pid")" >> "$out"
    sleep "$STEP"
    t=$((t + STEP))
  done
}

ROWS=""
DRIFT_ROWS=""
for backend in file redis postgres; do
  port=$(free_port)
  case $backend in
    file) extra=(--data-dir "$WORK/file" --cache-bytes "$CACHE_BYTES") ;;
    redis) extra=(--redis-url "redis://127.0.0.1:$REDIS_PORT/") ;;
    postgres) extra=(--database-url "postgres://postgres@127.0.0.1:$PG_PORT/store") ;;
  esac
  RUST_LOG=warn "$BIN" --log-format json store --backend "$backend" --listen "127.0.0.1:$port" \
    --name "$backend" --issuers-file "$WORK/issuers.json" "${extra[@]}" >"$WORK/$backend.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  wait_http "http://127.0.0.1:$port/readyz"
  idle=$(rss_mib "$pid")
  say "$backend: seeding 1,000 models"
  export IDS_FILE="$WORK/$backend.ids"
  python3 - "$port" "$IDS_FILE" <<'PY'
import http.client, json, os, sys
port, out = int(sys.argv[1]), sys.argv[2]
h = {"Authorization": "Bearer " + os.environ["TOKEN"], "Content-Type": "application/json"}
body = open(os.environ["DOC_FILE"]).read()
c = http.client.HTTPConnection("127.0.0.1", port)
ids = []
for _ in range(1000):
    c.request("POST", "/api/model", body=body, headers=h)
    r = c.getresponse(); ids.append(json.loads(r.read())["id"])
    assert r.status == 201, r.status
open(out, "w").write("\n".join(ids) + "\n")
PY
  redis_before=$(rss_mib "$REDIS_PID")
  say "$backend: ${DUR}s mixed (3/4 reads, 1/4 creates), $CONN connections"
  sample_rss "$pid" "$WORK/$backend.mixed.rss" &
  sampler=$!
  export READS_ONLY=0
  read -r rps p99 bad <<<"$(run_wrk "http://127.0.0.1:$port")"
  wait "$sampler"
  models=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/model?view=summary&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  redis_after=$(rss_mib "$REDIS_PID")
  ROWS="$ROWS| $backend | $rps | $p99 | $bad | $models | $idle | $(cat "$WORK/$backend.mixed.rss")| $redis_before → $redis_after |\n"
  say "$backend: ${DUR}s reads only"
  export READS_ONLY=1
  start_rss=$(rss_mib "$pid")
  read -r rps2 p992 bad2 <<<"$(run_wrk "http://127.0.0.1:$port")"
  end_rss=$(rss_mib "$pid")
  drift=$(python3 -c "print(f'{($end_rss - $start_rss) / $start_rss * 100:+.2f} %')")
  DRIFT_ROWS="$DRIFT_ROWS| $backend | $rps2 | $p992 | $bad2 | $start_rss | $end_rss | $drift |\n"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

# --- the other roles: idle and loaded RSS -----------------------------------------------------
ROLE_ROWS=""
mkdir -p "$WORK/dist"
echo '<!doctype html><html><head><title>soak</title></head><body><p>soak</p></body></html>' > "$WORK/dist/index.html"
head -c 600000 /dev/urandom > "$WORK/dist/app.wasm"
port=$(free_port)
RUST_LOG=warn "$BIN" static --app client --dir "$WORK/dist" --listen "127.0.0.1:$port" --domain soak.localhost >"$WORK/static.log" 2>&1 &
pid=$!; PIDS+=($pid)
wait_http "http://127.0.0.1:$port/healthz"
idle=$(rss_mib "$pid")
say "static: 20s, $CONN connections on a 600 KB file"
wrk -t"$THREADS" -c"$CONN" -d20s "http://127.0.0.1:$port/app.wasm" >/dev/null 2>&1
ROLE_ROWS="$ROLE_ROWS| static (600 KB file, $CONN connections, 20 s) | $idle | $(rss_mib "$pid") |\n"
kill "$pid"

port=$(free_port)
ORIGIN=http://client.soak.localhost
RUST_LOG=warn "$BIN" auth --listen "127.0.0.1:$port" --data-dir "$WORK/auth" --issuer "http://127.0.0.1:$port" \
  --allowed-origins "$ORIGIN" --rate-ip-per-minute 100000000 --rate-account-per-minute 100000000 >"$WORK/auth.log" 2>&1 &
pid=$!; PIDS+=($pid)
wait_http "http://127.0.0.1:$port/readyz"
idle=$(rss_mib "$pid")
curl -fs -o /dev/null -H "Origin: $ORIGIN" -H "Content-Type: application/json" -d '{"username":"soak","password":"load-test-secret-1"}' "http://127.0.0.1:$port/api/register"
cat >"$WORK/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"username":"soak","password":"load-test-secret-1"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "$ORIGIN"
EOF
say "auth: 20s of logins (argon2id 19 MiB), $CONN connections"
peak=0
( wrk -t"$THREADS" -c"$CONN" -d20s -s "$WORK/login.lua" "http://127.0.0.1:$port/api/login" >/dev/null 2>&1 ) &
w=$!
while kill -0 "$w" 2>/dev/null; do
  r=$(rss_mib "$pid"); peak=$(python3 -c "print(max($peak, $r))"); sleep 1
done
ROLE_ROWS="$ROLE_ROWS| auth (logins, $CONN connections, 20 s) | $idle | $peak |\n"

echo "## Soak ($(date -u +%FT%TZ), $(nproc) cores, wrk -t$THREADS -c$CONN -d${DUR}s, document $DOC_SIZE B, file cache budget $((CACHE_BYTES / 1048576)) MiB)"
echo
echo "Mixed load, 3/4 GET and 1/4 POST. RSS in MiB, sampled every $STEP s from the start of the run; the peer column is redis-server's own RSS over the same run."
echo
echo "| backend | req/s | p99 ms | non-2xx | models after | RSS idle | RSS timeline (s:MiB) | redis-server RSS |"
echo "|---|---|---|---|---|---|---|---|"
printf "%b" "$ROWS"
echo
echo "Then reads only, ${DUR} s:"
echo
echo "| backend | req/s | p99 ms | non-2xx | RSS at start | RSS at end | drift |"
echo "|---|---|---|---|---|---|---|"
printf "%b" "$DRIFT_ROWS"
echo
echo "| role | RSS idle (MiB) | RSS loaded (MiB) |"
echo "|---|---|---|"
printf "%b" "$ROLE_ROWS"
