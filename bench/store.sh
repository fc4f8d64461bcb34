#!/usr/bin/env bash
# Store benchmarks on loopback, each figure against its raw backend measured in the same run:
#   - authenticated GET and PUT of one model per backend (wrk), p99 latency;
#   - nginx serving the very JSON file the file store wrote, redis-benchmark GET/SET with a value
#     of the document's size, pgbench -S;
#   - the summary list over 10,000 models: first page, a deep page, a search.
# Usage: bench/store.sh   (env: DUR=5 CONN=32 THREADS=2 SA_SERVER_BIN=target/server/sa-server)
# Needs: wrk, nginx, redis-server, redis-benchmark, PostgreSQL 15 (pg_ctl, pgbench), openssl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-5}
CONN=${CONN:-32}
THREADS=${THREADS:-2}
BIN=${SA_SERVER_BIN:-$ROOT/target/server/sa-server}
PG_BIN=${SA_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
for tool in wrk nginx redis-server redis-benchmark openssl python3 "$PG_BIN/pg_ctl" "$PG_BIN/pgbench"; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y wrk nginx redis-server postgresql openssl python3" >&2; exit 1; }
done
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --profile server -p sa-server)
fi

WORK=$(mktemp -d /tmp/sa-bench-store.XXXXXX)
chmod 755 "$WORK"
PIDS=()
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -d "$WORK/pg" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
say() { echo "[bench $(date +%T)] $*" >&2; }
wait_http() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }

# --- a signing key, its JWKS and a writer token (RS256 via openssl: no extra tools) -----------
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
MOD_HEX=$(openssl rsa -in "$WORK/key.pem" -noout -modulus | cut -d= -f2)
N=$(python3 -c "import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex('$MOD_HEX')).decode().rstrip('='))")
echo "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"bench\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"$N\",\"e\":\"AQAB\"}]}" > "$WORK/jwks.json"
echo '[{"issuer":"https://auth.bench.example","jwks_file":"jwks.json","audiences":["sa"]}]' > "$WORK/issuers.json"
NOW=$(date +%s)
HDR=$(printf '{"alg":"RS256","typ":"JWT","kid":"bench"}' | b64url)
PAY=$(printf '{"iss":"https://auth.bench.example","aud":"sa","sub":"bench","name":"bench","roles":["writer"],"iat":%d,"nbf":%d,"exp":%d,"jti":"b"}' "$NOW" "$NOW" $((NOW + 7200)) | b64url)
SIG=$(printf '%s.%s' "$HDR" "$PAY" | openssl dgst -sha256 -sign "$WORK/key.pem" | b64url)
export TOKEN="$HDR.$PAY.$SIG"

# --- the document: a ~2 KB model --------------------------------------------------------------
python3 - "$WORK/doc.json" <<'PY'
import json, sys
doc = {"name": "Bench plant", "units": "SI", "blocks": [{"id": f"b{i}", "kind": "pump", "x": i * 10, "y": i * 7, "params": {"flow": i * 0.5, "head": 12.5}} for i in range(20)]}
open(sys.argv[1], "w").write(json.dumps(doc, separators=(",", ":")))
PY
DOC_SIZE=$(stat -c %s "$WORK/doc.json")
export DOC_FILE="$WORK/doc.json"
MODEL_ID=0190c6b2-7a4e-7c3d-9e1f-2b3c4d5e6f70

say "starting redis, PostgreSQL, nginx and four stores"
# --- raw backends -----------------------------------------------------------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >/dev/null 2>&1 &
PIDS+=($!)
PG_PORT=$(free_port)
mkdir -p "$WORK/pg" "$WORK/pgsock"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK/pg" "$WORK/pgsock"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --auth=trust >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pgsock/log" -o "-p $PG_PORT -k $WORK/pgsock -c listen_addresses=127.0.0.1 -c max_connections=200" -w start >/dev/null
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE store' -c 'CREATE DATABASE pgbench'
as_pg "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -i -s 1 -q pgbench >/dev/null 2>&1

# --- the stores -------------------------------------------------------------------------------
# Starts a store in the background; sets STORE_PORT. (Not a $(…) call: the subshell would keep
# the pipe open and the PID would be lost.)
start_store() { # name backend extra-args...
  local name=$1 backend=$2; shift 2
  STORE_PORT=$(free_port)
  RUST_LOG=warn "$BIN" --log-format json store --backend "$backend" --listen "127.0.0.1:$STORE_PORT" --name "$name" \
    --issuers-file "$WORK/issuers.json" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$STORE_PORT/healthz"
}
start_store file file --data-dir "$WORK/file" --fsync always; FILE_PORT=$STORE_PORT
start_store file-batch file --data-dir "$WORK/file-batch" --fsync batch; BATCH_PORT=$STORE_PORT
start_store redis redis --redis-url "redis://127.0.0.1:$REDIS_PORT/"; REDISSTORE_PORT=$STORE_PORT
start_store postgres postgres --database-url "postgres://postgres@127.0.0.1:$PG_PORT/store"; PGSTORE_PORT=$STORE_PORT
for p in $FILE_PORT $BATCH_PORT $REDISSTORE_PORT $PGSTORE_PORT; do
  curl -fs -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary @"$DOC_FILE" "http://127.0.0.1:$p/api/model/$MODEL_ID"
done

# nginx serves the file the file store wrote.
NGINX_PORT=$(free_port)
cat > "$WORK/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  types { application/json json; }
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/file; }
}
EOF
nginx -c "$WORK/nginx.conf" -p "$WORK"
wait_http "http://127.0.0.1:$NGINX_PORT/$MODEL_ID.json"

# --- load -------------------------------------------------------------------------------------
cat > "$WORK/put.lua" <<'EOF'
local f = io.open(os.getenv("DOC_FILE")); local body = f:read("*a"); f:close()
wrk.method = "PUT"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
-- 256 models, so writers mostly don't queue behind one model's lock.
request = function()
  return wrk.format(nil, string.format("/api/model/00000000-0000-4000-8000-%012d", math.random(256)))
end
EOF
# Prints "req/s p99_ms" for one wrk run.
run_wrk() {
  wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency "$@" 2>/dev/null | awk '
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v = v * 1000 } ; p99 = v }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.2f %s\n", rps, p99, (bad == "" ? 0 : bad) }'
}
AUTH="Authorization: Bearer $TOKEN"
say "GET and PUT runs (${DUR}s each)"
declare -A R
R[nginx]=$(run_wrk "http://127.0.0.1:$NGINX_PORT/$MODEL_ID.json")
R[get_file]=$(run_wrk -H "$AUTH" "http://127.0.0.1:$FILE_PORT/api/model/$MODEL_ID")
R[get_redis]=$(run_wrk -H "$AUTH" "http://127.0.0.1:$REDISSTORE_PORT/api/model/$MODEL_ID")
R[get_pg]=$(run_wrk -H "$AUTH" "http://127.0.0.1:$PGSTORE_PORT/api/model/$MODEL_ID")
R[put_file]=$(run_wrk -s "$WORK/put.lua" "http://127.0.0.1:$FILE_PORT")
R[put_batch]=$(run_wrk -s "$WORK/put.lua" "http://127.0.0.1:$BATCH_PORT")
R[put_redis]=$(run_wrk -s "$WORK/put.lua" "http://127.0.0.1:$REDISSTORE_PORT")
R[put_pg]=$(run_wrk -s "$WORK/put.lua" "http://127.0.0.1:$PGSTORE_PORT")
say "redis-benchmark and pgbench"
RB=$(redis-benchmark -p "$REDIS_PORT" -t get,set -n 300000 -c "$CONN" -d "$DOC_SIZE" --threads "$THREADS" --csv 2>/dev/null | tr -d '"')
RB_SET=$(echo "$RB" | awk -F, '$1=="SET" {printf "%.0f %.2f", $2, $8}')
RB_GET=$(echo "$RB" | awk -F, '$1=="GET" {printf "%.0f %.2f", $2, $8}')
PGB=$(as_pg "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -S -n -c "$CONN" -j "$THREADS" -T "$DUR" pgbench 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}')
# The write peer: pgbench's simple-update script (one UPDATE + INSERT per transaction).
PGB_W=$(as_pg "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -N -n -c "$CONN" -j "$THREADS" -T "$DUR" pgbench 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}')

# --- the summary list over 10,000 models ------------------------------------------------------
LIST_ROWS=""
for pair in "file-batch:$BATCH_PORT" "redis:$REDISSTORE_PORT" "postgres:$PGSTORE_PORT"; do
  name=${pair%%:*}; port=${pair##*:}
  say "seeding 10,000 models into $name"
  URLS=$(python3 - "$port" <<'PY'
import http.client, json, os, sys, threading
port = int(sys.argv[1]); token = os.environ["TOKEN"]; h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def seed(start, count):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(start, start + count):
        c.request("POST", "/api/model", body=json.dumps({"name": f"model {i:05d}", "kind": "pump" if i % 10 else "valve", "data": list(range(20))}), headers=h)
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
threads = [threading.Thread(target=seed, args=(k * 1250, 1250)) for k in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
c = http.client.HTTPConnection("127.0.0.1", port)
def get(q):
    c.request("GET", "/api/model?view=summary&" + q, headers=h); r = c.getresponse(); return json.loads(r.read())
page = get("limit=1000")
assert page["total"] >= 10000, page["total"]
for _ in range(8):
    page = get("limit=1000&after=" + page["next"])
print(f"/api/model?view=summary&limit=50 /api/model?view=summary&limit=50&after={page['next']} /api/model?view=summary&limit=50&q=model%2009")
PY
)
  set -- $URLS
  row="$name"
  for path in "$1" "$2" "$3"; do
    out=$(wrk -t1 -c1 -d3s --latency -H "$AUTH" "http://127.0.0.1:$port$path" 2>/dev/null | awk '
      function ms(v) { if (v ~ /us$/) { sub(/us/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms/, "", v); return v } sub(/s/, "", v); return v * 1000 }
      /^ +Latency +[0-9]/ { avg = ms($2) } /^ +99%/ { p99 = ms($2) } END { printf "%.2f / %.2f", avg, p99 }')
    row="$row | $out"
  done
  LIST_ROWS="$LIST_ROWS| $row |\n"
done

# --- report -----------------------------------------------------------------------------------
read -r NGINX_RPS NGINX_P99 _ <<<"${R[nginx]}"
read -r RBG_RPS RBG_P99 <<<"$RB_GET"
read -r RBS_RPS RBS_P99 <<<"$RB_SET"
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
row() { # label "rps p99 non2xx" raw-label raw-rps
  read -r rps p99 bad <<<"$2"
  echo "| $1 | $rps | $p99 | $bad | $3 | $4 | $(ratio "$rps" "$4") |"
}
echo "## Store benchmark ($(date -u +%FT%TZ), $(nproc) cores, wrk -t$THREADS -c$CONN -d${DUR}s, document $DOC_SIZE B)"
echo
echo "| request | req/s | p99 ms | non-2xx | raw peer | peer req/s | ratio |"
echo "|---|---|---|---|---|---|---|"
row "GET file (auth)" "${R[get_file]}" "nginx same file" "$NGINX_RPS"
row "GET redis (auth)" "${R[get_redis]}" "redis-benchmark GET" "$RBG_RPS"
row "GET postgres (auth)" "${R[get_pg]}" "pgbench -S" "$PGB"
row "PUT file, fsync always" "${R[put_file]}" "nginx same file (GET)" "$NGINX_RPS"
row "PUT file, fsync batch" "${R[put_batch]}" "nginx same file (GET)" "$NGINX_RPS"
row "PUT redis" "${R[put_redis]}" "redis-benchmark SET" "$RBS_RPS"
row "PUT postgres" "${R[put_pg]}" "pgbench -N (writes)" "$PGB_W"
echo
echo "Raw peers: nginx $NGINX_RPS req/s (p99 $NGINX_P99 ms); redis-benchmark GET $RBG_RPS/s (p99 $RBG_P99 ms), SET $RBS_RPS/s (p99 $RBS_P99 ms); pgbench -S $PGB tps, pgbench -N $PGB_W tps."
echo
echo "Summary list over 10,000 models, one connection, mean / p99 latency in ms (wrk -t1 -c1 -d3s):"
echo
echo "| backend | first page (50) | deep page (after item 9,000) | search q=\"model 09\" |"
echo "|---|---|---|---|"
printf "%b" "$LIST_ROWS"
