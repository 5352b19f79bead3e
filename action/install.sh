#!/usr/bin/env bash
# The action's install step (action.yml): use a `paved` already on PATH, else
# the release binary of this action's version for the runner, else tell the
# next steps to build it (with the cargo target folder cached between runs).
# Prints `build=true|false` to $GITHUB_OUTPUT.
set -euo pipefail

out=${GITHUB_OUTPUT:-/dev/null}
bin="${RUNNER_TEMP:?}/paved/bin"

if command -v paved >/dev/null 2>&1; then
    echo "paved: using $(command -v paved) ($(paved --version))"
    echo "build=false" >>"$out"
    exit 0
fi

case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
Linux-X64) target=x86_64-unknown-linux-gnu ;;
Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
macOS-ARM64) target=aarch64-apple-darwin ;;
macOS-X64) target=x86_64-apple-darwin ;;
*) target="" ;;
esac
ref=${PAVED_ACTION_REF:-}
repo=${PAVED_ACTION_REPOSITORY:-}

# Releases are tagged `vX.Y.Z`; a branch or commit ref has none.
if [[ -n $target && -n $repo && $ref =~ ^v[0-9] ]]; then
    url="https://github.com/$repo/releases/download/$ref/paved-$target.tar.gz"
    mkdir -p "$bin"
    if curl -fsSL --retry 2 "$url" -o "$RUNNER_TEMP/paved.tar.gz" &&
        tar -xzf "$RUNNER_TEMP/paved.tar.gz" -C "$bin" paved; then
        echo "paved: installed the release binary $ref for $target"
        echo "$bin" >>"${GITHUB_PATH:-/dev/null}"
        echo "build=false" >>"$out"
        exit 0
    fi
    echo "paved: no release binary at $url"
else
    echo "paved: no release binary for ref '${ref:-unknown}' on ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"
fi
echo "paved: building from source instead (about 5 minutes on 2 cores the first time; the cargo target folder is cached for the next run)"
echo "build=true" >>"$out"
