#!/usr/bin/env bash
# Builds the Debian package: target/release/bundle/deb/Tillkey_<version>_<arch>.deb
# The Tauri CLI (npm @tauri-apps/cli 2.x, kept in .tmp/tauri-cli) runs from src-tauri/,
# where tauri.conf.json is a symlink to the root conf and tauri.linux.conf.json re-bases
# its relative paths (the CLI resolves them against src-tauri/). Extra args go to
# `tauri build`, e.g. `--bundles deb,rpm`.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$ROOT/scripts/setup.sh"

step "Tauri CLI 2.x"
CLI_PREFIX="$ROOT/.tmp/tauri-cli"
TAURI="$CLI_PREFIX/node_modules/.bin/tauri"
cli_version() { "$TAURI" --version 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1; }
if [ ! -x "$TAURI" ] || [ "$(cli_version | cut -d. -f1)" != 2 ]; then
  mkdir -p "$CLI_PREFIX"
  # A private prefix: the UI's package.json stays as its owner wrote it.
  [ -f "$CLI_PREFIX/package.json" ] || echo '{"private": true}' >"$CLI_PREFIX/package.json"
  npm install --prefix "$CLI_PREFIX" --no-audit --no-fund --loglevel=error '@tauri-apps/cli@^2'
fi
info "tauri-cli $(cli_version)"

[ -L src-tauri/tauri.conf.json ] || die "src-tauri/tauri.conf.json must be a symlink to ../tauri.conf.json"
[ -f src-tauri/tauri.linux.conf.json ] || die "src-tauri/tauri.linux.conf.json is missing"

step "Building the .deb (release build; several minutes when cold)"
mapfile -t LOCKED < <(cargo_locked)
runner_args=()
if [ ${#LOCKED[@]} -gt 0 ]; then runner_args=(-- "${LOCKED[@]}"); fi
BUNDLE_DIR="$(target_dir)/release/bundle/deb"
rm -f "$BUNDLE_DIR"/*.deb
# setup.sh has just built ui/dist: skip the conf's beforeBuildCommand (its relative
# paths assume the repo root, while the CLI runs here from src-tauri/).
(cd src-tauri && CI=true "$TAURI" build --bundles deb \
  --config '{"build":{"beforeBuildCommand":""}}' "$@" "${runner_args[@]}")

shopt -s nullglob
debs=("$BUNDLE_DIR"/*.deb)
[ ${#debs[@]} -gt 0 ] || die "no .deb in $BUNDLE_DIR"
step "Package"
for deb in "${debs[@]}"; do
  info "$deb ($(du -h "$deb" | cut -f1))"
  dpkg-deb --field "$deb" Package Version Architecture Depends | sed 's/^/    /'
done
info "install with: sudo apt install ${debs[0]}"
