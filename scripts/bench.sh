#!/usr/bin/env bash
# The benchmark: set-up, release builds, then bench/ (tillkey-bench) inside a fresh D-Bus
# session with an unlocked gnome-keyring and Xvfb (scripts/with-keyring.sh). Prints one
# Markdown table (also written to .tmp/bench.md).
#
#   scripts/bench.sh                 full run: also builds the .deb (scripts/package-deb.sh,
#                                    no cargo features) and measures the app
#   scripts/bench.sh --quick         the CI check: CLI rows only, compared with bench/baseline.json
#   scripts/bench.sh --no-deb        full run with the .deb already in target/release/bundle/deb
#   other arguments go to tillkey-bench (see: target/release/tillkey-bench --help)
#
# The app rows launch a release build WITH the cargo feature `bench` (the UI's first-paint
# report exists only there), built into its own target dir ($TARGET/bench-app) so that
# target/release and the .deb stay feature-free. The size rows read the shipped .deb.
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
BENCH_APP_TARGET="$TARGET/bench-app"
app_args=()

if [ "$quick" = 1 ]; then
  step "Release build of the CLI and the benchmark runner"
else
  bash "$ROOT/scripts/setup.sh"
  if [ "$deb" = 1 ]; then
    # Release-builds the app without features and packages it (target/release/bundle/deb).
    bash "$ROOT/scripts/package-deb.sh"
  fi
  step "Release build of the app with the bench feature (own target dir; several minutes when cold)"
  cargo build --release -p tillkey-app --features bench --target-dir "$BENCH_APP_TARGET" "${LOCKED[@]}"
  app_args=(--app "$BENCH_APP_TARGET/release/tillkey-app")
  step "Release build of the CLI and the benchmark runner"
fi
cargo build --release -p tillkey -p tillkey-bench "${LOCKED[@]}"

step "Benchmark (fresh keyring session, Xvfb)"
mkdir -p "$ROOT/.tmp"
"$ROOT/scripts/with-keyring.sh" "$TARGET/release/tillkey-bench" \
  --cli "$TARGET/release/tillkey" ${app_args[@]+"${app_args[@]}"} \
  --baseline "$ROOT/bench/baseline.json" --out "$ROOT/.tmp/bench.md" ${args[@]+"${args[@]}"}
