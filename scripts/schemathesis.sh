#!/usr/bin/env bash
# Checks that the OpenAPI document tells the truth, the way a team generating a client from it
# would find out: Schemathesis (property-based, from the document) against a real factus-api
# started with --simulate-factus, a temporary SQLite file and an admin token.
#
# 1. The document validates as OpenAPI 3.1 (openapi-spec-validator).
# 2. Schemathesis runs every phase (examples, coverage, fuzzing, stateful) with the checks and
#    the explicit exclusions of scripts/schemathesis.toml: every answer must be documented (status
#    and body schema), and a request the document allows must not be refused by our validation.
#
# Exits non-zero on any failure. Bounded to a few minutes on two cores (MAX_EXAMPLES per
# operation and phase, a fixed SEED so that CI runs are reproducible; pass SEED= for a random one).
#
# Usage: scripts/schemathesis.sh            (MAX_EXAMPLES=25 SEED=20261201 by default)
#        PROFILE=release scripts/schemathesis.sh
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
SEED=${SEED-20261201}
PROFILE=${PROFILE:-debug}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Schemathesis lives in its own virtualenv under target/ (kept between runs, like the build).
# CPython 3.11's parser has a bug that Schemathesis' coverage phase trips over ("SystemError: AST
# constructor recursion depth mismatch"), so the newest Python found is used (SCHEMATHESIS_PYTHON
# picks one).
venv="$root/target/schemathesis-venv"
wanted="schemathesis==$SCHEMATHESIS_VERSION openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
# A virtualenv moved with its target directory keeps scripts that point at the old place: it is
# made again when its schemathesis does not run.
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$wanted" ] || ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  candidates=("${SCHEMATHESIS_PYTHON:-}" python3.13 python3.12)
  # pyenv's interpreters, also when pyenv itself is not on PATH (CI's environment may lack it).
  pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root)
  fi
  candidates+=("$pyenv_root"/versions/3.13*/bin/python3 "$pyenv_root"/versions/3.12*/bin/python3)
  candidates+=(python3)
  python=
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
  [ -n "$python" ] || { echo "no Python 3.10+ found for Schemathesis" >&2; exit 1; }
  echo "installing $wanted with $("$python" --version)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # shellcheck disable=SC2086 # two requirement specifiers
  "$venv/bin/pip" install --quiet --disable-pip-version-check $wanted
  echo "$wanted" >"$venv/.installed"
fi

if [ "$PROFILE" = release ]; then
  cargo build --release -p factus-server --bin factus-api
else
  cargo build -p factus-server --bin factus-api
fi
api_bin="$root/target/$PROFILE/factus-api"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh database, an admin with a known password, the in-process Factus simulator, any free
# port (the server prints the address it got). Logs go to a file, shown only on failure.
# The run sends thousands of Factus calls in minutes: Factus' real budget (80 a minute) would
# make it wait and answer 503 "Factus está ocupado"; the budget has its own tests
# (crates/server/tests/rate_budget.rs).
admin_password=admin123
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
  DATABASE_URL="sqlite://$work/api.db?mode=rwc" ADMIN_PASSWORD="$admin_password" \
  LOG_FORMAT=json RUST_LOG=warn FACTUS_RATE_LIMIT=1000000 \
  "$api_bin" --simulate-factus --bind 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
address=
for _ in $(seq 1 300); do
  address=$(sed -n 's/^listening on //p' "$work/server.log" | head -n 1)
  [ -n "$address" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$address" ]; then
  echo "factus-api did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
base="http://$address/api/v1"

json_field() { python3 -c 'import json, sys; value = json.load(sys.stdin)
for key in sys.argv[1:]: value = value[key]
print(value)' "$@"; }

curl -fsS "$base/openapi.json" -o "$work/openapi.json"
"$venv/bin/python" -c 'import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename
spec, _ = read_from_filename(sys.argv[1]); validate(spec); print("openapi.json: valid OpenAPI", spec["openapi"])' \
  "$work/openapi.json"

# The admin's token, a token of the simulator's Factus account (sent as X-Factus-Token, so that
# generated header values do not stand in for a real account), and one real invoice, whose
# number the document's {number} routes get (random numbers do not exist in Factus).
# The run works as an admin of its own: generated requests may disable, demote or re-password
# the bootstrap admin (the documented examples name it), which would turn the rest of the run
# into 401s.
export ST_TOKEN ST_FACTUS_TOKEN ST_INVOICE_NUMBER ST_API_KEY ST_API_KEY_ID ST_RUNNER
ST_RUNNER=schemathesis-runner
admin_token=$(curl -fsS -X POST "$base/auth/login" --data-urlencode username=admin \
  --data-urlencode "password=$admin_password" | json_field access_token)
runner_password=$(head -c 18 /dev/urandom | base64)
curl -fsS -o /dev/null -X POST "$base/users" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d "{\"username\": \"$ST_RUNNER\", \"password\": \"$runner_password\", \"role\": \"admin\"}"
ST_TOKEN=$(curl -fsS -X POST "$base/auth/login" --data-urlencode "username=$ST_RUNNER" \
  --data-urlencode "password=$runner_password" | json_field access_token)
# The runner's API key, which the later generation's routes under /api take instead of a token
# (scripts/schemathesis_hooks.py sends it there).
created_key=$(curl -fsS -X POST "$base/api-keys" -H "Authorization: Bearer $ST_TOKEN" -H 'Content-Type: application/json' \
  -d "{\"name\": \"$ST_RUNNER\", \"username\": \"$ST_RUNNER\"}")
ST_API_KEY=$(json_field data key <<<"$created_key")
ST_API_KEY_ID=$(json_field data id <<<"$created_key")
ST_FACTUS_TOKEN=$(curl -fsS -X POST "$base/auth/factus/login" -H "Authorization: Bearer $ST_TOKEN" \
  -H 'Content-Type: application/json' -d '{"email": "sandbox@factus.com.co", "password": "sandbox2024%"}' |
  json_field data access_token)
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["components"]["schemas"]["InvoiceRequest"]["examples"][0]))' \
  "$work/openapi.json" >"$work/invoice.json"
ST_INVOICE_NUMBER=$(curl -fsS -X POST "$base/invoices" -H "Authorization: Bearer $ST_TOKEN" \
  -H 'Content-Type: application/json' --data @"$work/invoice.json" | json_field data number)

started=$(date +%s)
status=0
seed_args=()
[ -n "$SEED" ] && seed_args=(--seed "$SEED")
PYTHONPATH="$root/scripts" "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
  --max-examples "$MAX_EXAMPLES" "${seed_args[@]}" --workers 2 --no-color || status=$?
echo "schemathesis: $(($(date +%s) - started)) s"
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (exit $status); the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
