#!/usr/bin/env bash
# Benchmarks the gateway (factus-api) as its own process under wrk, against the same Factus
# sandbox that is also hit directly, in one run on this machine: requests/s and p50/p99 latency of
#   GET  /api/v1/lookups/numbering-ranges  vs  GET  /v1/numbering-ranges  (straight at the sandbox)
#   POST /api/v1/invoices                  vs  POST /v1/bills/validate   (unique reference codes)
# at CONNECTIONS connections and again with one connection (latency at rest: what the gateway adds
# when nothing queues), and the gateway process's own RSS (VmHWM). Not a test: it prints figures
# for docs/benchmarks.md.
#
# The sandbox runs as a separate process (release factus-sandbox), not inside factus-api with
# --simulate-factus: in-process, the simulator's stored bills (about 4.6 KB each, docs/sandbox.md)
# would be counted in the gateway's RSS. The gateway runs in server-session mode
# (FACTUS_USERNAME/FACTUS_PASSWORD = the sandbox account), the lookup cache off (every GET is a
# Factus call through the gateway; GATEWAY_NUMBERING_RANGE_CACHE_SECS=30 measures it cached), the
# embedded SQLite ledger, and its default logging (one info line per request, to a file).
#
# The upstream budget is raised out of the way (FACTUS_RATE_LIMIT=100000000 per one-second window):
# at Factus' 80 calls a minute every request past the 80th would wait in the budget's queue, and a
# run would measure the queue, not the gateway (benches/rate_budget.rs measures the budget). Each
# Factus call still takes and settles its slot in the database, so that cost is in the figures.
# The window is one second, not Factus' minute, because a take counts the calls in the window: at
# Factus' limit that log never holds more than 80 rows, while a minute of unthrottled calls would
# hold hundreds of thousands and measure a log production never keeps.
#
# Usage: scripts/bench-gateway.sh
#   (DURATION=10s WARMUP=2s THREADS=2 CONNECTIONS=64 REST_DURATION=3s by default;
#    GATEWAY_DATABASE_URL=postgres://… puts the gateway's ledger and budget on Postgres;
#    GATEWAY_RATE_LIMIT and GATEWAY_RATE_WINDOW_SECS set the budget (FACTUS_RATE_LIMIT, …_WINDOW_SECS);
#    GATEWAY_MALLOC_MMAP_THRESHOLD=131072 runs factus-api with glibc's MALLOC_MMAP_THRESHOLD_ fixed,
#    which keeps argon2's 19 MiB hashing buffers from staying in its RSS after use (from before
#    mimalloc); GATEWAY_EXTRA_ENV="NAME=value …" adds variables to factus-api's environment, e.g.
#    MIMALLOC_PURGE_DELAY=0)
set -euo pipefail

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
REST_DURATION=${REST_DURATION:-3s}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

cargo build --release -p factus-server --bin factus-api -p factus-sandbox --bin factus-sandbox
api_bin="$root/target/release/factus-api"
sandbox_bin="$root/target/release/factus-sandbox"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for "listening on <addr>" in $1 and prints the address.
listening_address() {
  for _ in $(seq 1 300); do
    if grep -q '^listening on ' "$1" 2>/dev/null; then
      sed -n 's/^listening on //p' "$1" | head -n 1
      return 0
    fi
    sleep 0.1
  done
  return 1
}

status_field() { awk -v field="$2:" '$1 == field {print $2, $3}' "/proc/$1/status"; }

"$sandbox_bin" --bind 127.0.0.1:0 >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
pids+=("$sandbox_pid")
sandbox_addr=$(listening_address "$work/sandbox.out") || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.err" >&2; exit 1; }
sandbox="http://$sandbox_addr"

admin_password=bench-gateway-admin-password
mkdir -p "$work/api"
(
  cd "$work/api" # no .env of the developer's is read
  exec env -i PATH="$PATH" HOME="$work/api" \
    DATABASE_URL="${GATEWAY_DATABASE_URL:-sqlite://$work/api/factus-api.db}" \
    SECRET_KEY=bench-gateway-secret-key-0123456789abcdef \
    ADMIN_PASSWORD="$admin_password" \
    FACTUS_BASE_URL="$sandbox" \
    FACTUS_CLIENT_ID=factus-sandbox-client FACTUS_CLIENT_SECRET=factus-sandbox-secret \
    FACTUS_USERNAME=sandbox@factus.com.co 'FACTUS_PASSWORD=sandbox2024%' \
    FACTUS_NUMBERING_RANGE_CACHE_SECS="${GATEWAY_NUMBERING_RANGE_CACHE_SECS:-0}" \
    FACTUS_RATE_LIMIT="${GATEWAY_RATE_LIMIT:-100000000}" \
    FACTUS_RATE_WINDOW_SECS="${GATEWAY_RATE_WINDOW_SECS:-1}" \
    ${GATEWAY_MALLOC_MMAP_THRESHOLD:+MALLOC_MMAP_THRESHOLD_=$GATEWAY_MALLOC_MMAP_THRESHOLD} \
    ${GATEWAY_RUST_LOG:+RUST_LOG=$GATEWAY_RUST_LOG} \
    ${GATEWAY_DATABASE_MAX_CONNECTIONS:+DATABASE_MAX_CONNECTIONS=$GATEWAY_DATABASE_MAX_CONNECTIONS} \
    ${GATEWAY_EXTRA_ENV:-} \
    "$api_bin" --bind 127.0.0.1:0
) >"$work/api.out" 2>"$work/api.err" &
api_pid=$!
pids+=("$api_pid")
api_addr=$(listening_address "$work/api.out") || { echo "factus-api did not start:" >&2; cat "$work/api.err" >&2; exit 1; }
gateway="http://$api_addr"
api_rss_idle=$(status_field "$api_pid" VmRSS)

local_token=$(curl -sf -X POST "$gateway/api/v1/auth/login" \
  --data-urlencode username=admin --data-urlencode "password=$admin_password" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$local_token" ] || { echo "could not log in to factus-api" >&2; exit 1; }
sandbox_token=$(curl -sf -X POST "$sandbox/oauth/token" -H 'Accept: application/json' \
  -d grant_type=password -d client_id=factus-sandbox-client -d client_secret=factus-sandbox-secret \
  --data-urlencode username=sandbox@factus.com.co --data-urlencode 'password=sandbox2024%' |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$sandbox_token" ] || { echo "could not get a sandbox token" >&2; exit 1; }

cat >"$work/create.lua" <<'LUA'
-- POST an invoice with a unique reference code per request: BENCH_TAG + thread id + counter.
-- BENCH_PATH and BENCH_TOKEN come from the environment.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
local headers, path, tag
function init(args)
  path = os.getenv("BENCH_PATH")
  tag = os.getenv("BENCH_TAG")
  headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
  }
end
local template = '{"numbering_range_id":8,"document":"01","reference_code":"BENCH-%s-%d-%d",' ..
  '"payment_form":"1","payment_method_code":"10","customer":{"identification_document_id":3,' ..
  '"identification":"1234567890","legal_organization_id":2,"tribute_id":21,' ..
  '"names":"Cliente de prueba","email":"cliente@example.com","municipality_id":169},' ..
  '"items":[{"code_reference":"P-1","name":"Producto","quantity":2,"discount_rate":"0.00",' ..
  '"price":"100.50","tax_rate":"19.00","unit_measure_id":70,"standard_code_id":1,' ..
  '"is_excluded":0,"tribute_id":1},{"code_reference":"P-2","name":"Servicio","quantity":1,' ..
  '"discount_rate":"10.00","price":"50000.00","tax_rate":"5.00","unit_measure_id":70,' ..
  '"standard_code_id":1,"is_excluded":0,"tribute_id":1}]}'
function request()
  counter = counter + 1
  return wrk.format("POST", path, headers, string.format(template, tag, tid, counter))
end
LUA

# run NAME URL TOKEN [PATH-for-POST]: a discarded warm-up, the measured run into $work/NAME.txt,
# then a one-connection run into $work/NAME-rest.txt.
run() {
  local name=$1 url=$2 token=$3 post_path=${4:-}
  local loaded=(-t"$THREADS" -c"$CONNECTIONS" --latency) resting=(-t1 -c1 --latency)
  if [ -n "$post_path" ]; then
    export BENCH_PATH="$post_path" BENCH_TOKEN="$token"
    BENCH_TAG="$name-warm" wrk "${loaded[@]}" -d"$WARMUP" -s "$work/create.lua" "$url" >/dev/null
    echo "== $name: POST $post_path ($DURATION, $THREADS threads, $CONNECTIONS connections)"
    BENCH_TAG="$name" wrk "${loaded[@]}" -d"$DURATION" -s "$work/create.lua" "$url" | tee "$work/$name.txt"
    echo "== $name: POST $post_path ($REST_DURATION, one connection)"
    BENCH_TAG="$name-rest" wrk "${resting[@]}" -d"$REST_DURATION" -s "$work/create.lua" "$url" |
      tee "$work/$name-rest.txt"
  else
    local headers=(-H "Authorization: Bearer $token" -H 'Accept: application/json')
    wrk "${loaded[@]}" -d"$WARMUP" "${headers[@]}" "$url" >/dev/null
    echo "== $name: GET $url ($DURATION, $THREADS threads, $CONNECTIONS connections)"
    wrk "${loaded[@]}" -d"$DURATION" "${headers[@]}" "$url" | tee "$work/$name.txt"
    echo "== $name: GET $url ($REST_DURATION, one connection)"
    wrk "${resting[@]}" -d"$REST_DURATION" "${headers[@]}" "$url" | tee "$work/$name-rest.txt"
  fi
  echo
}

reset_sandbox() { curl -sf -X POST "$sandbox/__sandbox/reset" >/dev/null; }

run direct-get "$sandbox/v1/numbering-ranges" "$sandbox_token"
run gateway-get "$gateway/api/v1/lookups/numbering-ranges" "$local_token"
api_hwm_after_get=$(status_field "$api_pid" VmHWM)
reset_sandbox
run direct-post "$sandbox/v1/bills/validate" "$sandbox_token" /v1/bills/validate
reset_sandbox
run gateway-post "$gateway/api/v1/invoices" "$local_token" /api/v1/invoices

api_hwm=$(status_field "$api_pid" VmHWM)
api_rss=$(status_field "$api_pid" VmRSS)
sandbox_hwm=$(status_field "$sandbox_pid" VmHWM)

rps() { awk '/^Requests\/sec/ {print $2}' "$work/$1.txt"; }
# The latency percentile $2 ("50%", "99%") of run $1, in milliseconds.
pct() {
  awk -v p="$2" '$1 == p {
      v = $2
      if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
      else if (v ~ /ms$/) { sub(/ms$/, "", v) }
      else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
      printf "%.2f", v
    }' "$work/$1.txt"
}
line() {
  local label=$1 direct=$2 through=$3
  local d_rps g_rps d50 d99 g50 g99
  d_rps=$(rps "$direct"); g_rps=$(rps "$through")
  d50=$(pct "$direct" 50%); d99=$(pct "$direct" 99%); g50=$(pct "$through" 50%); g99=$(pct "$through" 99%)
  awk -v l="$label" -v dr="$d_rps" -v gr="$g_rps" -v d50="$d50" -v d99="$d99" -v g50="$g50" -v g99="$g99" 'BEGIN {
    printf "| %s | %.0f | %.0f | %.0f %% | %.2f / %.2f ms | %.2f / %.2f ms | %+.2f ms |\n",
      l, dr, gr, 100 * gr / dr, d50, d99, g50, g99, g50 - d50 }'
}
rest_line() {
  local label=$1 direct=$2-rest through=$3-rest
  local d50 d99 g50 g99
  d50=$(pct "$direct" 50%); d99=$(pct "$direct" 99%); g50=$(pct "$through" 50%); g99=$(pct "$through" 99%)
  awk -v l="$label" -v d50="$d50" -v d99="$d99" -v g50="$g50" -v g99="$g99" 'BEGIN {
    printf "| %s | %.2f / %.2f ms | %.2f / %.2f ms | %+.2f ms |\n", l, d50, d99, g50, g99, g50 - d50 }'
}

echo "== Summary ($(nproc) cores shared by wrk, the sandbox and the gateway; $(uname -r); $DURATION per run, $CONNECTIONS connections)"
echo "| endpoint | direct req/s | gateway req/s | ratio | direct p50 / p99 | gateway p50 / p99 | added p50 |"
echo "|---|---|---|---|---|---|---|"
line "GET numbering-ranges" direct-get gateway-get
line "POST create invoice" direct-post gateway-post
echo
echo "| endpoint, one connection | direct p50 / p99 | gateway p50 / p99 | added p50 |"
echo "|---|---|---|---|"
rest_line "GET numbering-ranges" direct-get gateway-get
rest_line "POST create invoice" direct-post gateway-post
echo
echo "factus-api RSS: $api_rss_idle idle after start; peak (VmHWM) $api_hwm_after_get after the GET runs, $api_hwm after the POST runs ($api_rss at the end)"
echo "sandbox peak RSS (VmHWM): $sandbox_hwm"

# A run that completed nothing (a gateway stuck behind its budget, say) is a failure, not a 0.
errors=$({ grep -H -E 'Non-2xx|Socket errors' "$work"/*.txt; grep -H -E '^ *0 requests in' "$work"/*.txt; } || true)
if [ -n "$errors" ]; then
  echo "errors reported by wrk:"
  echo "$errors"
  exit 1
fi
