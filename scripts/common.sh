# shellcheck shell=bash
# Sourced by the scripts in this folder: repo root, PATH, messages, cargo helpers.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

# rustup and `cargo install` put their binaries here; a non-login shell (CI) may lack it.
CARGO_BIN="${CARGO_HOME:-${HOME:-/root}/.cargo}/bin"
case ":$PATH:" in
  *":$CARGO_BIN:"*) ;;
  *) if [ -d "$CARGO_BIN" ]; then PATH="$CARGO_BIN:$PATH"; fi ;;
esac
export PATH

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

# The one target dir every script uses (cargo's own default unless CARGO_TARGET_DIR says otherwise).
target_dir() {
  local dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$dir" in /*) ;; *) dir="$ROOT/$dir" ;; esac
  printf '%s\n' "$dir"
}

# A fresh clone (CI) gains nothing from incremental compilation, whose caches are about as
# large as the rest of the debug target dir; off there, a full test run writes half as much.
if [ "${CI:-}" = true ] && [ -z "${CARGO_INCREMENTAL:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

# Free space where the target dir lives, in GiB (the dir itself may not exist yet).
free_gib() {
  local dir
  dir="$(target_dir)"
  while [ ! -d "$dir" ]; do dir="$(dirname "$dir")"; done
  df -Pk "$dir" | awk 'NR == 2 { printf "%d\n", $4 / 1048576 }'
}

# `--locked` once Cargo.lock is committed; before that cargo may still write it.
cargo_locked() {
  if git -C "$ROOT" ls-files --error-unmatch Cargo.lock >/dev/null 2>&1; then
    printf '%s\n' --locked
  fi
}
