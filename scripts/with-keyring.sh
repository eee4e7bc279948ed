#!/usr/bin/env bash
# with-keyring.sh CMD [ARG]...
# Runs CMD in a fresh D-Bus session bus with its own unlocked gnome-keyring (Secret
# Service) in a throw-away XDG_DATA_HOME/XDG_CACHE_HOME, plus a dunst notification server
# when installed. Without a DISPLAY (or with TILLKEY_XVFB=1) it first starts Xvfb
# through xvfb-run. Temp dirs are removed at exit; CMD's exit code is this script's.
# TERM/INT/HUP sent to this script reach CMD, and everything it started is torn down.
# Should the keyring daemon die midway, the bus starts it again, unlocked, on the same
# keyring (its activation file points here), and the script warns at exit.
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
STAGE_ARG=__tillkey_keyring_session__
DAEMON_ARG=__tillkey_keyring_daemon__
# The test keyring's password (it guards nothing: the keyring is deleted at exit).
PASSWORD=tillkey-test-keyring

# Daemon stage (started by the inner stage, or by the bus's activation when the daemon
# died): gnome-keyring-daemon on the keyring in $2, created or unlocked with PASSWORD.
# --foreground (in the background of its caller) rather than letting it daemonize: the
# daemonized gnome-keyring 42 aborted with a glib trap midway through long keyring-heavy
# runs; in the foreground it did so far more rarely, and its stderr stays in gkd.err.
if [ "${1:-}" = "$DAEMON_ARG" ]; then
  KR="$2"
  export XDG_DATA_HOME="$KR/data" XDG_CACHE_HOME="$KR/cache"
  # Never another daemon's control socket (a nested run inherits the outer one's).
  unset GNOME_KEYRING_CONTROL
  if [ -e "$KR/gkd.pid" ]; then
    echo "restarted at $(date -u +%T) after pid $(cat "$KR/gkd.pid")" >>"$KR/restarts"
  fi
  printf '%s\n' "$$" >"$KR/gkd.pid"
  exec gnome-keyring-daemon --foreground --unlock --components=secrets --control-directory="$KR/control" \
    < <(printf '%s' "$PASSWORD") >"$KR/gkd.env" 2>>"$KR/gkd.err"
fi

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
  # The keyring's dir, and a session bus config whose activation files for the Secret
  # Service names come first: they start this script's daemon stage (unlocked, same
  # keyring) instead of the system's gnome-keyring-daemon --start, which would come up
  # locked and leave every later keyring call waiting on a prompt nobody can answer.
  PIDFILE=""
  KR="$(mktemp -d "${TMPDIR:-/tmp}/tillkey-keyring.XXXXXX")"
  trap 'rm -f "$PIDFILE"; rm -rf "$KR"' EXIT
  chmod 700 "$KR"
  # The paths go into a D-Bus activation line (split like a shell's) and into XML.
  case "$SELF$KR" in
    *[[:space:]\'\"\\\&\<\>]*)
      echo "with-keyring.sh: the script's path or TMPDIR holds a space, quote, '&', '<' or '>': $SELF, $KR" >&2
      exit 2
      ;;
  esac
  mkdir -p "$KR/services" "$KR/data" "$KR/cache" "$KR/control"
  chmod 700 "$KR/control"
  for name in org.freedesktop.secrets org.gnome.keyring; do
    printf '[D-BUS Service]\nName=%s\nExec=%s %s %s\n' "$name" "$SELF" "$DAEMON_ARG" "$KR" \
      >"$KR/services/$name.service"
  done
  cat >"$KR/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <servicedir>$KR/services</servicedir>
  <include>/usr/share/dbus-1/session.conf</include>
</busconfig>
CONF
  export TILLKEY_KEYRING_DIR="$KR"
  chain=(dbus-run-session --config-file="$KR/session.conf" -- "$SELF" "$STAGE_ARG" "$@")
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
KR="$TILLKEY_KEYRING_DIR"
unset TILLKEY_KEYRING_DIR # a nested with-keyring.sh gets its own
DUNST_PID=""
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [ -n "$DUNST_PID" ]; then kill "$DUNST_PID" 2>/dev/null || true; fi
  # The keyring daemon lives as long as the bus; stop it (the latest one, should the bus
  # have started it again) before its files go (the outer stage removes them); only if that
  # pid is still our daemon (a pid can be reused once its process is gone).
  local gkd died=""
  gkd="$(cat "$KR/gkd.pid" 2>/dev/null || true)"
  if [ -n "$gkd" ] && tr '\0' ' ' 2>/dev/null <"/proc/$gkd/cmdline" | grep -q -- "--control-directory=$KR/control"; then
    kill "$gkd" 2>/dev/null || true
  else
    died="gnome-keyring-daemon (pid ${gkd:-?}) exited before the command ended"
  fi
  # A daemon that died midway: say so, with what it printed.
  if [ -s "$KR/restarts" ]; then
    died="${died:+$died; }gnome-keyring-daemon exited before the command ended and the bus started it again:"
  fi
  if [ -n "$died" ]; then
    echo "with-keyring.sh: warning: $died" >&2
    sed 's/^/  /' "$KR/restarts" >&2 2>/dev/null || true
    sed 's/^/  gnome-keyring-daemon: /' "$KR/gkd.err" >&2 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

export XDG_DATA_HOME="$KR/data" XDG_CACHE_HOME="$KR/cache"

# A fresh login keyring, created and unlocked with PASSWORD. Its own control dir keeps it
# apart from a desktop's daemon.
"$SELF" "$DAEMON_ARG" "$KR" &
GKD_PID=$!
disown "$GKD_PID" # its death is reported at exit, with what it printed
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
