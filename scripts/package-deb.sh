#!/usr/bin/env bash
# Builds the Debian package target/release/bundle/deb/Tillkey_<version>_<arch>.deb (package
# `tillkey`) and checks it. It holds both programs, built in the same release profile:
# /usr/bin/tillkey-app (the Tauri app) and /usr/bin/tillkey (the CLI); man pages in
# /usr/share/man/man1; bash, zsh and fish completions of tillkey.
#
# 1. `cargo build --release -p tillkey`, then `tillkey-gen-docs` (a build tool of that crate,
#    not packaged) writes the man pages and completions from the CLI's clap definitions into
#    target/release/deb-extra/ (never committed, so never stale).
# 2. The Tauri CLI (npm @tauri-apps/cli 2.x, kept in .tmp/tauri-cli) builds the app and the
#    .deb from src-tauri/, where tauri.conf.json is a symlink to the root conf and
#    tauri.linux.conf.json re-bases its relative paths (the CLI resolves them against
#    src-tauri/) and adds the static Debian files (packaging/deb/). The staged CLI files go in
#    through `bundle.linux.deb.files`, given here with --config.
# 3. The package is re-packed with dpkg-deb: Depends computed by dpkg-shlibdeps from both
#    binaries (Tauri only names WebKitGTK and GTK), xz instead of gzip (the 8 MB budget).
# 4. Checks: the package test (crates/cli/tests/package_deb.rs: extract, --version of both,
#    man pages, completions, bash completion, size) and lintian (fails on errors).
#
# Extra args go to `tauri build`, e.g. `--bundles deb,rpm` (only the .deb gets step 3 and 4).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
umask 022

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

mapfile -t LOCKED < <(cargo_locked)
TARGET="$(target_dir)"

step "The tillkey CLI, its man pages and completions (release build)"
cargo build --release -p tillkey --bins "${LOCKED[@]}"
VERSION="$("$TARGET/release/tillkey" --version | awk '{print $2}')"
# One version: the workspace's (both binaries print it). The package version comes from
# tauri.conf.json and the changelog: they must say the same.
conf_version="$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' tauri.conf.json)"
[ "$conf_version" = "$VERSION" ] ||
  die "tauri.conf.json has version $conf_version, the workspace (Cargo.toml) $VERSION: make them equal"
changelog_version="$(dpkg-parsechangelog -l packaging/deb/changelog -S Version)"
[ "$changelog_version" = "$VERSION" ] ||
  die "packaging/deb/changelog starts at $changelog_version, not $VERSION: add an entry (dch -c packaging/deb/changelog -v $VERSION)"
info "version $VERSION"

EXTRA="$TARGET/release/deb-extra"
STAGE="$EXTRA/root"
rm -rf "$EXTRA"
"$TARGET/release/tillkey-gen-docs" "$EXTRA/generated" >/dev/null
install -D -m 755 "$TARGET/release/tillkey" "$STAGE/usr/bin/tillkey"
mkdir -p "$STAGE/usr/share/man/man1" "$STAGE/usr/share/doc/tillkey"
for page in "$EXTRA"/generated/man1/*.1; do
  gzip -9 -n -c "$page" >"$STAGE/usr/share/man/man1/${page##*/}.gz"
done
gzip -9 -n -c packaging/deb/changelog >"$STAGE/usr/share/doc/tillkey/changelog.gz"
install -D -m 644 "$EXTRA/generated/completions/tillkey.bash" "$STAGE/usr/share/bash-completion/completions/tillkey"
install -D -m 644 "$EXTRA/generated/completions/_tillkey" "$STAGE/usr/share/zsh/vendor-completions/_tillkey"
install -D -m 644 "$EXTRA/generated/completions/tillkey.fish" "$STAGE/usr/share/fish/vendor_completions.d/tillkey.fish"
info "$(find "$STAGE" -type f | wc -l) files staged in ${STAGE#"$ROOT"/}"

step "Building the app and the .deb (release build; several minutes when cold)"
runner_args=()
if [ ${#LOCKED[@]} -gt 0 ]; then runner_args=(-- "${LOCKED[@]}"); fi
BUNDLE_DIR="$TARGET/release/bundle/deb"
rm -f "$BUNDLE_DIR"/*.deb
# setup.sh has just built ui/dist: skip the conf's beforeBuildCommand (its relative
# paths assume the repo root, while the CLI runs here from src-tauri/). The files map is
# merged with the static one of tauri.linux.conf.json.
config="$(printf '{"build":{"beforeBuildCommand":""},"bundle":{"linux":{"deb":{"files":{"/usr":"%s"}}}}}' "$STAGE/usr")"
(cd src-tauri && CI=true "$TAURI" build --bundles deb --config "$config" "$@" "${runner_args[@]}")

shopt -s nullglob
debs=("$BUNDLE_DIR"/*.deb)
[ ${#debs[@]} -eq 1 ] || die "expected one .deb in $BUNDLE_DIR, found ${#debs[@]}"
DEB="${debs[0]}"

step "Re-packing: Depends from dpkg-shlibdeps, xz compression"
work="$(mktemp -d "${TMPDIR:-/tmp}/tillkey-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dpkg-deb -R "$DEB" "$work/pkg"
# dpkg-shlibdeps wants a debian/control naming the package; the binaries are the shipped ones.
mkdir "$work/debian"
printf 'Source: tillkey\n\nPackage: tillkey\nArchitecture: any\n' >"$work/debian/control"
shlibs="$(cd "$work" && dpkg-shlibdeps -O -e pkg/usr/bin/tillkey-app -e pkg/usr/bin/tillkey 2>"$work/shlibdeps.log" |
  sed -n 's/^shlibs:Depends=//p')" || { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependency"
# Keep what Tauri added that the linker does not show (libraries it loads at run time),
# without naming a package twice.
depends="$shlibs"
IFS=',' read -ra tauri_depends <<<"$(sed -n 's/^Depends: //p' "$work/pkg/DEBIAN/control")"
for dep in "${tauri_depends[@]}"; do
  dep="$(echo "$dep" | xargs)"
  [ -n "$dep" ] || continue
  name="${dep%% *}"
  case ", $depends," in *", $name "* | *", $name,"*) ;; *) depends+=", $dep" ;; esac
done
sed -i "s/^Depends: .*/Depends: $depends/" "$work/pkg/DEBIAN/control"
grep -q '^Depends: ' "$work/pkg/DEBIAN/control" || sed -i "/^Priority: /a Depends: $depends" "$work/pkg/DEBIAN/control"
before=$(stat -c %s "$DEB")
dpkg-deb --root-owner-group -Zxz -z9 --build "$work/pkg" "$DEB" >/dev/null
info "$(numfmt --to=si "$before") (Tauri, gzip) -> $(numfmt --to=si "$(stat -c %s "$DEB")") (xz)"

step "Package"
info "$DEB ($(stat -c %s "$DEB") bytes)"
dpkg-deb --field "$DEB" Package Version Architecture Maintainer Section Homepage Depends Recommends | sed 's/^/    /'

step "Checking the package (crates/cli/tests/package_deb.rs)"
TILLKEY_DEB="$DEB" cargo test -p tillkey --test package_deb "${LOCKED[@]}"

step "lintian"
command -v lintian >/dev/null 2>&1 || die "lintian is not installed (scripts/setup.sh installs it)"
# Fails on errors; warnings are listed (the README's packaging section says why each stays).
lintian --fail-on error "$DEB" | sed 's/^/    /'
info "lintian: no errors"

info "install with: sudo apt install $DEB"
