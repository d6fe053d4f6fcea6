#!/usr/bin/env bash
# The test of scripts/check-architecture.sh (run by CI): on throwaway copies of the workspace it
# must pass as it is, and must FAIL on a forbidden dependency, on a crate without a rule, on a
# forbidden dependency behind a feature, on a broken manifest, and when cargo itself fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

# copy NAME: a fresh copy of the workspace's manifests, lock file, sources and scripts.
copy() {
  local dir="$scratch/$1"
  mkdir -p "$dir"
  (cd "$root" && tar --exclude=./target --exclude='./crates/*/target' -cf - Cargo.toml Cargo.lock \
    rust-toolchain.toml crates scripts) | tar -xf - -C "$dir"
  echo "$dir"
}

# expect WANTED_STATUS NAME DIR [PATH]: runs the copy's script and checks its exit status.
expect() {
  local wanted=$1 name=$2 dir=$3 path=${4:-$PATH} status=0 output
  output=$(cd "$dir" && PATH="$path" scripts/check-architecture.sh 2>&1) || status=$?
  if [ "$status" -eq "$wanted" ]; then
    echo "ok: $name (exit $status)"
  else
    echo "FAILED: $name: exit $status, wanted $wanted"
    echo "$output" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

expect 0 "the workspace as it is passes" "$(copy as-is)"

dir=$(copy forbidden)
sed -i 's/^\[dependencies\]$/[dependencies]\nhttp.workspace = true/' "$dir/crates/application/Cargo.toml"
expect 1 "http in the application fails" "$dir"

dir=$(copy web-infrastructure)
sed -i 's/^\[dependencies\]$/[dependencies]\nfactus-infrastructure.workspace = true/' "$dir/crates/web/Cargo.toml"
expect 1 "web depending on infrastructure fails" "$dir"

dir=$(copy behind-a-feature)
sed -i 's/^\[dependencies\]$/[dependencies]\nsqlx = { workspace = true, optional = true }/' \
  "$dir/crates/domain/Cargo.toml"
# The feature joins the domain's [features] table, or starts one when it has none.
if grep -q '^\[features\]$' "$dir/crates/domain/Cargo.toml"; then
  sed -i 's/^\[features\]$/[features]\nstorage = ["dep:sqlx"]/' "$dir/crates/domain/Cargo.toml"
else
  printf '\n[features]\nstorage = ["dep:sqlx"]\n' >>"$dir/crates/domain/Cargo.toml"
fi
expect 1 "sqlx in the domain behind an optional feature fails" "$dir"

dir=$(copy new-crate)
mkdir -p "$dir/crates/newcomer/src"
printf '[package]\nname = "factus-newcomer"\nversion = "0.1.0"\nedition = "2024"\n' >"$dir/crates/newcomer/Cargo.toml"
touch "$dir/crates/newcomer/src/lib.rs"
expect 1 "a crate without a rule fails" "$dir"

dir=$(copy broken-manifest)
echo 'this is not toml [' >>"$dir/crates/web/Cargo.toml"
expect 2 "a manifest cargo cannot read fails" "$dir"

dir=$(copy broken-cargo)
mkdir -p "$scratch/bin"
printf '#!/bin/sh\necho "cargo: broken" >&2\nexit 101\n' >"$scratch/bin/cargo"
chmod +x "$scratch/bin/cargo"
expect 2 "a cargo that fails fails the check" "$dir" "$scratch/bin:$PATH"

dir=$(copy silent-cargo)
mkdir -p "$scratch/silent"
printf '#!/bin/sh\nexit 0\n' >"$scratch/silent/cargo"
chmod +x "$scratch/silent/cargo"
expect 2 "a cargo that prints nothing fails the check" "$dir" "$scratch/silent:$PATH"

if [ "$failures" -ne 0 ]; then
  echo "test-check-architecture: $failures case(s) failed"
  exit 1
fi
echo "test-check-architecture: every case behaved"
