#!/usr/bin/env bash
# Builds the starting corpus of the `load_validate_render` fuzz target from
# the repository's fixtures: every spec, every bad-input case, and each case's
# paved.yaml and blueprint in the harness's `%%%%`-separated layout
# (fuzz/src/lib.rs). Run from anywhere; see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=fuzz/corpus/load_validate_render
mkdir -p "$out"
n=0
add() { # add NAME FILE...  (parts joined with the separator line)
    local name=$1; shift
    local first=1
    {
        for f in "$@"; do
            if [[ $first -eq 0 ]]; then printf '\n%%%%%%%%\n'; fi
            first=0
            if [[ -f $f ]]; then cat "$f"; fi
        done
    } > "$out/$name"
    n=$((n + 1))
}
while IFS= read -r spec; do
    add "spec-$(echo "$spec" | tr '/' '_')" "$spec"
done < <(find fixtures -name platform.yaml | sort)
for case in fixtures/invalid/*/; do
    name=$(basename "$case")
    spec=$(find "$case" -name platform.yaml | sort | head -1)
    cfg="$case/paved.yaml"
    bp=$(find "$case" -path '*blueprints/service/*.yaml' | sort | head -1)
    if [[ -n $bp ]]; then
        add "case-$name" "${spec:-/dev/null}" /dev/null "$bp"
    elif [[ -f $cfg ]]; then
        add "case-$name-config" "${spec:-/dev/null}" "$cfg"
    fi
done
echo "$n seeds in $out"
