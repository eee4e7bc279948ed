#!/usr/bin/env bash
# Renders icons/source.svg into the app's icon set (RGBA PNG32 + a multi-size .ico).
# Needs rsvg-convert (apt-get install librsvg2-bin) and ImageMagick's convert.
# The outputs are committed; rerun this after editing the SVG.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v rsvg-convert >/dev/null 2>&1 || die "rsvg-convert not found: apt-get install librsvg2-bin"
[ -x /usr/bin/convert ] || command -v convert >/dev/null 2>&1 || die "convert not found: apt-get install imagemagick"
CONVERT=convert
[ -x /usr/bin/convert ] && CONVERT=/usr/bin/convert

SRC=icons/source.svg
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# render SIZE OUT: SVG -> RGBA PNG without timestamps, so reruns give identical files.
render() {
  rsvg-convert -w "$1" -h "$1" "$SRC" -o "$TMP/raw.png"
  "$CONVERT" "$TMP/raw.png" -strip -define png:exclude-chunks=date,time "PNG32:$2"
}

step "Rendering $SRC"
render 32 icons/32x32.png
render 128 icons/128x128.png
render 256 icons/128x128@2x.png
render 512 icons/icon.png

# Windows icon: every standard size rendered from the vector, not scaled from one PNG.
ico_parts=()
for s in 16 24 32 48 64 128 256; do
  render "$s" "$TMP/ico-$s.png"
  ico_parts+=("$TMP/ico-$s.png")
done
"$CONVERT" "${ico_parts[@]}" -strip icons/icon.ico

for f in icons/32x32.png icons/128x128.png icons/128x128@2x.png icons/icon.png icons/icon.ico; do
  info "$f: $(file -b "$f" | cut -c1-60)"
done
