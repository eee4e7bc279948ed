#!/usr/bin/env bash
# The README's test command: set-up, build the app the end-to-end test launches, then every
# test of the workspace inside a fresh D-Bus session with an unlocked gnome-keyring (and
# Xvfb when there is no display), then the quick benchmark check (scripts/bench.sh --quick).
# Exit code: non-zero when any step or test fails.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

start=$SECONDS
mapfile -t LOCKED < <(cargo_locked)
TARGET="$(target_dir)"
LOG_DIR="$ROOT/.tmp"
mkdir -p "$LOG_DIR"
LOG="$LOG_DIR/test.log"

# shellcheck disable=SC2317  # called through the EXIT trap
finish() {
  local rc=$? elapsed=$((SECONDS - start))
  local passed=0 failed=0 ignored=0 p f i
  if [ -f "$LOG" ]; then
    # Sum cargo's per-binary lines: "test result: ok. 12 passed; 0 failed; 1 ignored; ..."
    while read -r p f i; do
      passed=$((passed + p)) failed=$((failed + f)) ignored=$((ignored + i))
    done < <(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$LOG")
  fi
  echo
  if [ "$rc" -eq 0 ]; then
    echo "All steps passed in ${elapsed}s."
  else
    echo "FAILED at: $STAGE (exit $rc) after ${elapsed}s.${LOG:+ Test output: $LOG}"
    # A failure outside a test (build error, crash) still counts as one.
    if [ "$failed" -eq 0 ]; then failed=1; fi
  fi
  echo "Summary: $passed passed, $failed failed, $ignored skipped"
}
STAGE="set-up"
rm -f "$LOG"
trap finish EXIT

bash "$ROOT/scripts/setup.sh"

# A build that runs out of disk fails with rustc's "No space left on device" deep in the log;
# say it up front. A cold run (debug build of the workspace, tests, release CLI) needs about
# NEED_GIB here.
NEED_GIB=6
FREE_GIB="$(free_gib)"
if [ "$FREE_GIB" -lt "$NEED_GIB" ]; then
  warn "only $FREE_GIB GiB free for $TARGET; a cold test run needs about $NEED_GIB GiB"
fi

STAGE="cargo fmt --check"
if cargo fmt --version >/dev/null 2>&1; then
  step "Checking formatting (rustfmt, rustfmt.toml)"
  cargo fmt --all -- --check
else
  echo "warning: rustfmt is not installed (rustup component add rustfmt); formatting not checked" >&2
fi

STAGE="cargo build -p tillkey-app"
step "Building the app (target/debug/tillkey-app, launched by the end-to-end test)"
cargo build -p tillkey-app "${LOCKED[@]}"
# The E2E test may use this instead of guessing the target dir.
export TILLKEY_APP_BIN="$TARGET/debug/tillkey-app"
[ -x "$TILLKEY_APP_BIN" ] || die "$TILLKEY_APP_BIN was not built"

STAGE="cargo test --workspace"
step "Running every test (fresh D-Bus session, unlocked gnome-keyring, Xvfb)"
set +e
"$ROOT/scripts/with-keyring.sh" cargo test --workspace --no-fail-fast "${LOCKED[@]}" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || exit "$rc"

# The performance regression check: release builds of the CLI and the runner (not the
# app), the ratio rows measured against cat and curl in this job, failing when a ratio is
# more than 2x its value in bench/baseline.json (and when test --all fails or meets a 429).
STAGE="benchmark check (scripts/bench.sh --quick)"
"$ROOT/scripts/bench.sh" --quick
