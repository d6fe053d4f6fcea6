#!/usr/bin/env bash
# Benchmarks factus-sandbox on this machine: requests per second of
# POST /v1/bills/validate (unique reference codes) and GET /v1/numbering-ranges, and the
# sandbox's peak RSS (VmHWM). Not a test: it prints figures to record in docs/sandbox.md.
#
# Usage: scripts/bench-sandbox.sh            (DURATION=15s THREADS=2 CONNECTIONS=64 by default)
set -euo pipefail

DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

cargo build --release -p factus-sandbox --bin factus-sandbox
bin="$root/target/release/factus-sandbox"

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
  sleep 0.1
done
addr=$(sed -n 's/^listening on //p' "$work/stdout")
[ -n "$addr" ] || { echo "the sandbox did not start:" >&2; cat "$work/stderr" >&2; exit 1; }
base="http://$addr"

token=$(curl -sf -X POST "$base/oauth/token" -H 'Accept: application/json' \
  -d grant_type=password -d client_id=factus-sandbox-client -d client_secret=factus-sandbox-secret \
  --data-urlencode username=sandbox@factus.com.co --data-urlencode 'password=sandbox2024%' |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "could not get a token" >&2; exit 1; }

cat >"$work/create.lua" <<'LUA'
-- POST /v1/bills/validate with a unique reference code per request (thread id + counter).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
local headers
function init(args)
  headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("SANDBOX_TOKEN"),
  }
end
local template = '{"document":"01","reference_code":"BENCH-%d-%d","payment_form":"1",' ..
  '"payment_method_code":"10","customer":{"identification_document_id":3,' ..
  '"identification":"1234567890","legal_organization_id":2,"tribute_id":21,' ..
  '"names":"Cliente de prueba","email":"cliente@example.com","municipality_id":169},' ..
  '"items":[{"code_reference":"P-1","name":"Producto","quantity":2,"discount_rate":"0.00",' ..
  '"price":"100.50","tax_rate":"19.00","unit_measure_id":70,"standard_code_id":1,' ..
  '"is_excluded":0,"tribute_id":1},{"code_reference":"P-2","name":"Servicio","quantity":1,' ..
  '"discount_rate":"10.00","price":"50000.00","tax_rate":"5.00","unit_measure_id":70,' ..
  '"standard_code_id":1,"is_excluded":0,"tribute_id":1}]}'
function request()
  counter = counter + 1
  return wrk.format("POST", "/v1/bills/validate", headers, string.format(template, tid, counter))
end
LUA

export SANDBOX_TOKEN="$token"
echo "== GET /v1/numbering-ranges ($DURATION, $THREADS threads, $CONNECTIONS connections)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
  -H "Authorization: Bearer $token" -H 'Accept: application/json' \
  "$base/v1/numbering-ranges" | tee "$work/get.txt"
echo
echo "== POST /v1/bills/validate ($DURATION, $THREADS threads, $CONNECTIONS connections)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/create.lua" \
  "$base/v1/bills/validate" | tee "$work/post.txt"

stored=$(curl -sf "$base/__sandbox/bills" | grep -o '"number"' | wc -l)
peak=$(awk '/^VmHWM/ {print $2, $3}' "/proc/$pid/status")
get_rps=$(awk '/^Requests\/sec/ {print $2}' "$work/get.txt")
post_rps=$(awk '/^Requests\/sec/ {print $2}' "$work/post.txt")
errors=$(cat "$work/get.txt" "$work/post.txt" | grep -E 'Non-2xx|Socket errors' || true)

echo
echo "== Summary"
echo "machine:                  $(nproc) cores, $(uname -r)"
echo "GET  /v1/numbering-ranges: $get_rps requests/s"
echo "POST /v1/bills/validate:   $post_rps requests/s ($stored bills stored)"
echo "sandbox peak RSS (VmHWM):  $peak"
if [ -n "$errors" ]; then
  echo "errors reported by wrk:"
  echo "$errors"
  exit 1
fi
