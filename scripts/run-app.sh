#!/usr/bin/env bash
# The README's run command: set-up, release build, then start the Tillkey window.
# Arguments are passed to the app. Needs a desktop session (DISPLAY or WAYLAND_DISPLAY),
# or TILLKEY_HEADLESS=1 for a headless smoke run: Xvfb plus a fresh D-Bus session with a
# throw-away unlocked keyring (scripts/with-keyring.sh).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Fail before the (long) build when there is nowhere to show the window.
if [ "${TILLKEY_HEADLESS:-0}" != 1 ]; then
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    die "no desktop session: DISPLAY and WAYLAND_DISPLAY are unset.
     Tillkey is a desktop app: run this from a terminal inside a graphical session
     (it uses that session's keyring, e.g. gnome-keyring or KeePassXC's Secret Service).
     For a headless smoke run on a server: TILLKEY_HEADLESS=1 $0
     (Xvfb plus a temporary unlocked keyring, deleted when the app exits)."
  fi
fi

bash "$ROOT/scripts/setup.sh"

mapfile -t LOCKED < <(cargo_locked)
step "Building the app (release)"
cargo build -p tillkey-app --release "${LOCKED[@]}"
APP="$(target_dir)/release/tillkey-app"
[ -x "$APP" ] || die "$APP was not built"

if [ "${TILLKEY_HEADLESS:-0}" = 1 ]; then
  step "Starting $APP headless (Xvfb, throw-away keyring)"
  exec "$ROOT/scripts/with-keyring.sh" "$APP" "$@"
fi

step "Starting $APP"
exec "$APP" "$@"
