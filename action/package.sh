#!/usr/bin/env bash
# Packs a release binary the way the action's install step (install.sh)
# downloads it: `paved-<target>.tar.gz` holding `paved` at its top, and its
# SHA-256 beside it. Used by .github/workflows/release.yml.
#
#   bash action/package.sh TARGET BINARY DIST_DIR
set -euo pipefail

target=${1:?target triple, e.g. x86_64-unknown-linux-gnu}
binary=${2:?path to the built paved binary}
dist=${3:?folder to write the archive into}

[[ -f $binary && -x $binary ]] || {
    echo "package: no executable at $binary" >&2
    exit 1
}
mkdir -p "$dist"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/paved"
chmod 0755 "$stage/paved"
archive="$dist/paved-$target.tar.gz"
# Stable metadata where the tar allows it (GNU tar on Linux; macOS runners
# have bsdtar): the same binary packs to the same archive.
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -C "$stage" -cf - paved | gzip -n >"$archive"
else
    tar -C "$stage" -cf - paved | gzip -n >"$archive"
fi
if command -v sha256sum >/dev/null 2>&1; then
    (cd "$dist" && sha256sum "paved-$target.tar.gz" >"paved-$target.tar.gz.sha256")
else
    (cd "$dist" && shasum -a 256 "paved-$target.tar.gz" >"paved-$target.tar.gz.sha256")
fi
echo "package: wrote $archive"
