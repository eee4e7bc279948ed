#!/usr/bin/env bash
# Regenerates docs/screenshots/tray.png: Tillkey running with no window (`--hidden`), its
# tray menu as a panel shows it (scripts/tray-host.py renders the app's real exported
# dbusmenu with libdbusmenu-gtk3) and the rotation reminder it sent (dunst), under Xvfb in
# a throw-away keyring session. The app's debug-build clock is set 100 days ahead, so
# credentials added now are due. Needs python3-gi and gir1.2-dbusmenu-gtk3-0.4 (installed
# here when missing) on top of scripts/setup.sh.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ "${1:-}" != --inside ]; then
  bash "$ROOT/scripts/setup.sh"
  if ! /usr/bin/python3 -c "import gi; gi.require_version('DbusmenuGtk3', '0.4')" 2>/dev/null; then
    SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-gi gir1.2-dbusmenu-gtk3-0.4 >/dev/null
  fi
  step "Building the app and the CLI (debug: the test clock)"
  mapfile -t LOCKED < <(cargo_locked)
  cargo build -p tillkey-app -p tillkey "${LOCKED[@]}"
  exec env TILLKEY_XVFB=1 "$ROOT/scripts/with-keyring.sh" "$0" --inside
fi

BIN="$(target_dir)/debug"
DATA="$(mktemp -d "${TMPDIR:-/tmp}/tillkey-tray-shot.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$DATA"' EXIT
add() { printf 'token=%s\n' "demo-$1-$RANDOM" | "$BIN/tillkey" --data-dir "$DATA" add "$1" --provider bearer >/dev/null; }
add kiosk-riga
add shop-vilnius
add webshop-eu
"$BIN/tillkey" --data-dir "$DATA" period webshop-eu 110 >/dev/null   # due in 10 days on day 100
"$BIN/tillkey" --data-dir "$DATA" period kiosk-riga 365 >/dev/null   # not due

/usr/bin/python3 "$ROOT/scripts/tray-host.py" &
sleep 1
TILLKEY_TEST_NOW="$(date -u -d '+100 days' +%Y-%m-%dT%H:%M:%SZ)" \
  "$BIN/tillkey-app" --hidden --data-dir "$DATA" >/dev/null 2>&1 &
sleep 9
mkdir -p "$ROOT/docs/screenshots"
import -window root -crop 1280x260+0+0 "$ROOT/docs/screenshots/tray.png"
echo "wrote docs/screenshots/tray.png"
