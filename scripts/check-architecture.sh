#!/usr/bin/env bash
# Fails when a crate depends on something its layer must not see (design.md §1):
# arrows point inwards, and the sandbox is an independent double of Factus.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
# deps CRATE [DEPTH]: the crate's normal (non-dev) dependencies, transitively or to DEPTH.
deps() {
  cargo tree --offline -p "$1" -e normal --prefix none --format '{p}' ${2:+--depth "$2"} | awk '{print $1}' | sort -u
}
check() {
  local crate=$1 depth=$2; shift 2
  local found
  found=$(deps "$crate" "$depth" | grep -E -x "$(IFS='|'; echo "$*")" || true)
  if [ -n "$found" ]; then
    echo "architecture: $crate must not depend on: $(echo "$found" | tr '\n' ' ')"
    fail=1
  fi
}
forbid() { local crate=$1; shift; check "$crate" "" "$@"; }
forbid_direct() { local crate=$1; shift; check "$crate" 1 "$@"; }

forbid factus-domain sqlx axum reqwest tokio hyper factus-application factus-infrastructure factus-web
# serde reaches the domain only through rust_decimal; the domain itself must not use it.
forbid_direct factus-domain serde serde_json
forbid factus-application sqlx axum reqwest tokio hyper serde_json factus-infrastructure factus-web factus-server
forbid factus-web factus-infrastructure sqlx reqwest factus-server factus-sandbox
forbid factus-infrastructure factus-web factus-server axum
forbid factus-sandbox factus-domain factus-application factus-infrastructure factus-web factus-server

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "architecture: dependency rule holds"
