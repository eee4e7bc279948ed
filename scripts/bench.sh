#!/usr/bin/env bash
# The benchmark: set-up, release builds, then bench/ (tillkey-bench) inside a fresh D-Bus
# session with an unlocked gnome-keyring and Xvfb (scripts/with-keyring.sh). Prints one
# Markdown table (also written to .tmp/bench.md).
#
#   scripts/bench.sh                 full run: also builds the .deb (scripts/package-deb.sh,
#                                    which release-builds the app) and measures the app
#   scripts/bench.sh --quick         the CI check: CLI rows only, compared with bench/baseline.json
#   scripts/bench.sh --no-deb        full run on the app already in target/release
#   other arguments go to tillkey-bench (see: target/release/tillkey-bench --help)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

quick=0 deb=1 args=()
for a in "$@"; do
  case "$a" in
    --quick) quick=1; args+=("$a") ;;
    --no-deb) deb=0 ;;
    *) args+=("$a") ;;
  esac
done

mapfile -t LOCKED < <(cargo_locked)
TARGET="$(target_dir)"

if [ "$quick" = 1 ]; then
  step "Release build of the CLI and the benchmark runner"
else
  bash "$ROOT/scripts/setup.sh"
  if [ "$deb" = 1 ]; then
    # Release-builds the app (target/release/tillkey-app) and packages it.
    bash "$ROOT/scripts/package-deb.sh"
  fi
  [ -x "$TARGET/release/tillkey-app" ] ||
    die "$TARGET/release/tillkey-app is missing: run without --no-deb (or scripts/package-deb.sh)"
  step "Release build of the CLI and the benchmark runner"
fi
cargo build --release -p tillkey -p tillkey-bench "${LOCKED[@]}"

step "Benchmark (fresh keyring session, Xvfb)"
mkdir -p "$ROOT/.tmp"
"$ROOT/scripts/with-keyring.sh" "$TARGET/release/tillkey-bench" \
  --cli "$TARGET/release/tillkey" --app "$TARGET/release/tillkey-app" \
  --baseline "$ROOT/bench/baseline.json" --out "$ROOT/.tmp/bench.md" ${args[@]+"${args[@]}"}
