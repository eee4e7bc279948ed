#!/usr/bin/env bash
# with-keyring.sh CMD [ARG]...
# Runs CMD in a fresh D-Bus session bus with its own unlocked gnome-keyring (Secret
# Service) in a throw-away XDG_DATA_HOME/XDG_CACHE_HOME, plus a dunst notification server
# when installed. Without a DISPLAY (or with TILLKEY_XVFB=1) it first starts Xvfb
# through xvfb-run. Temp dirs are removed at exit; CMD's exit code is this script's.
# TERM/INT/HUP sent to this script reach CMD, and everything it started is torn down.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
STAGE_ARG=__tillkey_keyring_session__

if [ $# -eq 0 ]; then
  echo "usage: $(basename "$0") CMD [ARG]..." >&2
  exit 2
fi

need() {
  command -v "$1" >/dev/null 2>&1 ||
    { echo "with-keyring.sh: '$1' not found (package $2; run scripts/setup.sh)" >&2; exit 127; }
}

# run_forwarding CMD...: runs CMD as a child that keeps this script's stdin (and terminal),
# forwards TERM/INT/HUP to the pid named by forward_pid(), and returns CMD's exit code.
CHILD=""
# shellcheck disable=SC2317  # called through forward()
forward_pid() { printf '%s\n' "$CHILD"; }
# shellcheck disable=SC2317  # called through traps
forward() {
  local pid
  pid="$(forward_pid)"
  if [ -n "$pid" ]; then kill "-$1" "$pid" 2>/dev/null || true; fi
}
run_forwarding() {
  # Without job control a background job would get /dev/null as stdin and ignore SIGINT
  # (so Ctrl-C would not stop it): pass stdin explicitly and restore SIGINT/SIGQUIT.
  (
    trap - INT QUIT
    exec "$@"
  ) <&0 &
  CHILD=$!
  trap 'forward TERM' TERM
  trap 'forward INT' INT
  trap 'forward HUP' HUP
  local rc=0
  while :; do
    rc=0
    wait "$CHILD" || rc=$?
    # wait also returns (>128) when a trapped signal arrives: wait again until CMD is gone.
    kill -0 "$CHILD" 2>/dev/null || break
  done
  trap - TERM INT HUP
  return "$rc"
}

if [ "$1" != "$STAGE_ARG" ]; then
  # Outer stage: a display if needed, then a fresh session bus, then re-enter this script.
  need dbus-run-session dbus-bin
  need gnome-keyring-daemon gnome-keyring
  chain=(dbus-run-session -- "$SELF" "$STAGE_ARG" "$@")
  if [ -z "${DISPLAY:-}" ] || [ "${TILLKEY_XVFB:-0}" = 1 ]; then
    need xvfb-run xvfb
    need xauth xauth
    # GTK would pick a Wayland compositor over the Xvfb display.
    unset WAYLAND_DISPLAY
    chain=(xvfb-run -a -s "-screen 0 1280x800x24" "${chain[@]}")
  fi
  # Neither xvfb-run nor dbus-run-session passes signals on: send them to the inner
  # stage (its pid lands in this file), which stops CMD and lets the chain unwind.
  PIDFILE="$(mktemp "${TMPDIR:-/tmp}/tillkey-keyring-pid.XXXXXX")"
  trap 'rm -f "$PIDFILE"' EXIT
  export TILLKEY_KEYRING_PIDFILE="$PIDFILE"
  # shellcheck disable=SC2317  # called through traps
  forward_pid() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    printf '%s\n' "${pid:-$CHILD}"
  }
  rc=0
  run_forwarding "${chain[@]}" || rc=$?
  exit "$rc"
fi
shift

# Inner stage: we are on the fresh session bus.
if [ -n "${TILLKEY_KEYRING_PIDFILE:-}" ]; then
  printf '%s\n' "$$" >"$TILLKEY_KEYRING_PIDFILE"
  unset TILLKEY_KEYRING_PIDFILE # a nested with-keyring.sh gets its own
fi
KR="$(mktemp -d "${TMPDIR:-/tmp}/tillkey-keyring.XXXXXX")"
DUNST_PID=""
GKD_PID=""
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [ -n "$DUNST_PID" ]; then kill "$DUNST_PID" 2>/dev/null || true; fi
  # The keyring daemon lives as long as the bus; stop it before its files go. If it is
  # already gone, CMD lost its keyring midway: say so, with what the daemon printed.
  if [ -n "$GKD_PID" ]; then
    # (a daemon that died may linger as a zombie until init reaps it: check its state)
    state="$(ps -o stat= -p "$GKD_PID" 2>/dev/null || true)"
    if [ -n "$state" ] && [ "${state:0:1}" != Z ]; then
      kill "$GKD_PID" 2>/dev/null || true
    else
      echo "with-keyring.sh: warning: gnome-keyring-daemon (pid $GKD_PID) exited before the command ended" >&2
      sed 's/^/  gnome-keyring-daemon: /' "$KR/gkd.err" >&2 2>/dev/null || true
    fi
  fi
  rm -rf "$KR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

export XDG_DATA_HOME="$KR/data" XDG_CACHE_HOME="$KR/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$KR/control"
chmod 700 "$KR" "$KR/control"

# A fresh login keyring, created and unlocked with this password (it guards nothing:
# the data dir is deleted at exit). Its own control dir keeps it apart from a desktop's daemon.
# --foreground (in the background here) rather than letting it daemonize: the daemonized
# gnome-keyring 42 aborted with a glib trap midway through long keyring-heavy runs (seen in
# the kernel log, every later keyring call failing); run in the foreground it did not, and
# its stderr stays available for the warning in cleanup.
printf '%s' tillkey-test-keyring |
  gnome-keyring-daemon --foreground --unlock --components=secrets --control-directory="$KR/control" \
    >"$KR/gkd.env" 2>"$KR/gkd.err" &
GKD_PID=$!
# It prints VAR=value lines (GNOME_KEYRING_CONTROL) once it is up; export them.
for _ in $(seq 100); do
  grep -q '^GNOME_KEYRING_CONTROL=' "$KR/gkd.env" 2>/dev/null && break
  if ! kill -0 "$GKD_PID" 2>/dev/null; then
    cat "$KR/gkd.err" >&2
    echo "with-keyring.sh: gnome-keyring-daemon failed to start" >&2
    exit 1
  fi
  sleep 0.1
done
while IFS= read -r line; do
  if [[ "$line" =~ ^[A-Z_][A-Z0-9_]*=.*$ ]]; then export "${line?}"; fi
done <"$KR/gkd.env"

# Wait until the Secret Service name is on the bus.
has_owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
if command -v dbus-send >/dev/null 2>&1; then
  for _ in $(seq 50); do has_owner org.freedesktop.secrets && break; sleep 0.1; done
fi

# A notification server for the reminder tests (needs an X display).
if command -v dunst >/dev/null 2>&1 && [ -n "${DISPLAY:-}" ]; then
  dunst >"$KR/dunst.log" 2>&1 &
  DUNST_PID=$!
  disown "$DUNST_PID" # no job report if it dies (e.g. an unreachable DISPLAY)
  if command -v dbus-send >/dev/null 2>&1; then
    for _ in $(seq 50); do
      has_owner org.freedesktop.Notifications && break
      kill -0 "$DUNST_PID" 2>/dev/null || break
      sleep 0.1
    done
  fi
fi

rc=0
run_forwarding "$@" || rc=$?
exit "$rc"
