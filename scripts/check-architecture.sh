#!/usr/bin/env bash
# The crate graph's rule (docs/ARCHITECTURE.md, "Layers"): arrows point inwards, and the sandbox is
# an independent double of Factus. Fails closed:
# - when `cargo tree` cannot run (a broken manifest, a missing cargo): exit 2, never a pass;
# - when a crate depends, with any of its features, on something its layer must not see: exit 1;
# - when a workspace crate has no rule below (a new crate must be given one): exit 1.
# Its own test is scripts/test-check-architecture.sh (run by CI).
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
ruled=()

die() {
  echo "architecture: $*" >&2
  exit 2
}

# deps CRATE [DEPTH]: the crate's normal (non-dev) dependencies with every feature on, transitively
# or to DEPTH. Exits the script when cargo fails.
deps() {
  local tree
  tree=$(cargo tree --offline --all-features -p "$1" -e normal --prefix none --format '{p}' ${2:+--depth "$2"}) ||
    die "cargo tree failed for $1; the rule cannot be checked"
  [ -n "$tree" ] || die "cargo tree printed nothing for $1"
  awk 'NF {print $1}' <<<"$tree" | sort -u
}

check() {
  local crate=$1 depth=$2
  shift 2
  local all found
  all=$(deps "$crate" "$depth")
  found=$(grep -E -x "$(IFS='|'; echo "$*")" <<<"$all" || [ $? -eq 1 ]) || die "grep failed"
  if [ -n "$found" ]; then
    echo "architecture: $crate must not depend on: $(echo "$found" | tr '\n' ' ')"
    fail=1
  fi
}

# forbid CRATE DEP...: no path from CRATE to any DEP. forbid_direct: not as a direct dependency.
forbid() {
  local crate=$1
  shift
  ruled+=("$crate")
  check "$crate" "" "$@"
}
forbid_direct() {
  local crate=$1
  shift
  ruled+=("$crate")
  check "$crate" 1 "$@"
}
# anything CRATE: the crate may depend on every other (the composition root).
anything() {
  ruled+=("$1")
  deps "$1" 1 >/dev/null
}

forbid factus-domain sqlx axum reqwest tokio hyper http factus-application factus-infrastructure factus-web \
  factus-server factus-sandbox
# serde reaches the domain only through rust_decimal; the domain itself must not use it.
forbid_direct factus-domain serde serde_json
# tokio is allowed for its timer (login throttling's growing delay), not for I/O.
forbid factus-application sqlx axum reqwest hyper http serde_json factus-infrastructure factus-web \
  factus-server factus-sandbox
forbid factus-web factus-infrastructure sqlx reqwest factus-server factus-sandbox
forbid factus-infrastructure factus-web factus-server factus-sandbox axum
forbid factus-sandbox factus-domain factus-application factus-infrastructure factus-web factus-server
anything factus-server

# Every workspace crate must have a rule above.
members=$(cargo tree --offline --workspace -e normal --depth 0 --prefix none --format '{p}') ||
  die "cargo tree failed listing the workspace"
members=$(awk 'NF {print $1}' <<<"$members" | sort -u)
[ -n "$members" ] || die "no workspace crates found"
for member in $members; do
  if ! printf '%s\n' "${ruled[@]}" | grep -q -x -F "$member"; then
    echo "architecture: $member has no rule in scripts/check-architecture.sh; give it one"
    fail=1
  fi
done

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "architecture: dependency rule holds ($(echo "$members" | wc -l) crates)"
