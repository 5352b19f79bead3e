#!/usr/bin/env bash
# The Paved benchmark (see BENCHMARKS.md for results and what they mean).
#
#   bash bench/run.sh [SIZES...]        # default: 100 1000 5000
#
# For each fleet size N it generates N services (examples/gen-fleet.rs),
# then measures, as medians of RUNS runs (default 5):
#   - cold render into an empty folder: wall time and peak memory (GNU time),
#     and in the same run the floor: `cp -r` of the rendered tree (which reads
#     and writes every byte and creates every file), and the ratio of the two;
#   - a re-render that changes nothing, and `paved check` on the up-to-date tree;
#   - the in-memory pipeline (`render --dry-run`: load, validate, render,
#     normalise, all checks; nothing written) in documents per second;
# and once: `paved validate` of one file, process start included; and
# `paved lsp` on each fleet (examples/lsp-bench.rs): the time from a
# keystroke in one spec to its published diagnostics (median of LSP_EDITS
# edits, default 200), the server's RSS before and after the edits, and
# the time from an edit and a save (the server then walks the workspace and
# reads every closed spec again) to the published diagnostics.
#
# Then, for each size, `paved diff` of a one-image bump (the first service's
# image tag, changed in a copy of the fleet), as medians of RUNS runs with
# peak memory, against a dry run measured in the same loop:
#   - `paved diff OLD NEW` of the two rendered trees;
#   - `paved diff --base HEAD` in a Git repository holding the fleet in one
#     commit, with the bump in the work tree;
# and the ratios of both to the dry run (time and peak memory).
#
# Needs GNU time (/usr/bin/time, Debian package `time`) for peak memory.
# Timed tests flake on shared 2-core machines; this is a benchmark: it
# reports numbers, it does not assert them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-5}
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(100 1000 5000)
WORK=${BENCH_DIR:-$(mktemp -d)}
trap 'rm -rf "$WORK"' EXIT

cargo build --release --locked --quiet --bin paved --example gen-fleet --example lsp-bench
PAVED=$PWD/target/release/paved
GEN=$PWD/target/release/examples/gen-fleet
LSPBENCH=$PWD/target/release/examples/lsp-bench

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {m=(NR+1)/2; if (NR%2) print a[m]; else print (a[m-0.5]+a[m+0.5])/2}'; }
# seconds taken by "$@" (stdout/stderr discarded)
calc() { awk "BEGIN { print $* }"; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); calc "$t1 - $t0"; }

echo "# Paved benchmark"
echo
echo "- date: $(date -u +%Y-%m-%d)"
echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
echo "- paved: $($PAVED --version)"
echo "- runs per figure: $RUNS (medians)"
echo
echo "| services | files | documents | cold render (s) | floor cp -r (s) | render/floor | peak RSS (MB) | per service (ms) | no-change re-render (s) | check (s) | dry-run (s) | documents/s (in memory) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
    fleet=$WORK/fleet-$n
    out=$WORK/out-$n
    "$GEN" "$n" "$fleet" 2>/dev/null
    renders=() floors=() rss=() rerenders=() checks=() dries=()
    for _ in $(seq "$RUNS"); do
        rm -rf "$out" "$out.copy"
        sync
        t0=$(now)
        /usr/bin/time -f '%M' -o "$WORK/rss" "$PAVED" render --quiet "$fleet" --out "$out"
        t1=$(now)
        renders+=("$(calc "$t1 - $t0")")
        rss+=("$(cat "$WORK/rss")")
        sync
        floors+=("$(timed cp -r "$out" "$out.copy")")
        rerenders+=("$(timed "$PAVED" render --quiet "$fleet" --out "$out")")
        checks+=("$(timed "$PAVED" check --quiet "$fleet" --out "$out")")
        # Into a folder that does not exist: a dry run against a real folder
        # also reads it to report its plan (as `check` does).
        dries+=("$(timed "$PAVED" render --quiet --dry-run "$fleet" --out "$WORK/none-$n")")
    done
    files=$(find "$out" -type f | wc -l)
    docs=$(grep -rh '^apiVersion:' "$out" | wc -l)
    r=$(printf '%s\n' "${renders[@]}" | median)
    f=$(printf '%s\n' "${floors[@]}" | median)
    m=$(printf '%s\n' "${rss[@]}" | median)
    rr=$(printf '%s\n' "${rerenders[@]}" | median)
    c=$(printf '%s\n' "${checks[@]}" | median)
    d=$(printf '%s\n' "${dries[@]}" | median)
    printf '| %d | %d | %d | %.3f | %.3f | %.2f | %.0f | %.2f | %.3f | %.3f | %.3f | %.0f |\n' \
        "$n" "$files" "$docs" "$r" "$f" "$(calc "$r / $f")" "$(calc "$m / 1024")" \
        "$(calc "$r * 1000 / $n")" "$rr" "$c" "$d" "$(calc "$docs / $d")"
done

# diff of a one-image bump, both modes, against the dry run of the same loop.
# peak RSS in KiB of "$@" into $WORK/rss; wall seconds on stdout
rss_timed() {
    local t0 t1
    t0=$(now)
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
    t1=$(now)
    calc "$t1 - $t0"
}
echo
echo "| services | changed resources | dry-run (s) | dry-run peak (MB) | diff (s) | diff peak (MB) | diff --base (s) | diff --base peak (MB) | diff / dry-run | diff --base / dry-run | diff peak / dry-run | diff --base peak / dry-run |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
    fleet=$WORK/fleet-$n
    old=$WORK/out-$n
    bumped=$WORK/bumped-$n
    repo=$WORK/repo-$n
    rm -rf "$bumped" "$repo" "$old"
    "$PAVED" render --quiet "$fleet" --out "$old"
    cp -r "$fleet" "$repo"
    spec=$(find "$repo/services" -name platform.yaml | sort | sed -n 1p)
    git -C "$repo" init -q
    git -C "$repo" add -A
    git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid commit -q -m fleet
    sed -i -E 's#^(  image: .*:)([0-9.]+)$#\1\2-bump#' "$spec"
    "$PAVED" render --quiet "$repo" --out "$bumped"
    changed=$("$PAVED" diff --format json "$old" "$bumped" | grep -c '"change": "changed"' || true)
    dries=() drss=() diffs=() dfrss=() bases=() brss=()
    for _ in $(seq "$RUNS"); do
        dries+=("$(rss_timed "$PAVED" render --quiet --dry-run "$fleet" --out "$WORK/none-$n")")
        drss+=("$(cat "$WORK/rss")")
        diffs+=("$(rss_timed "$PAVED" diff "$old" "$bumped")")
        dfrss+=("$(cat "$WORK/rss")")
        bases+=("$(cd "$repo" && rss_timed "$PAVED" diff --quiet --base HEAD)")
        brss+=("$(cat "$WORK/rss")")
    done
    d=$(printf '%s\n' "${dries[@]}" | median)
    dm=$(printf '%s\n' "${drss[@]}" | median)
    f=$(printf '%s\n' "${diffs[@]}" | median)
    fm=$(printf '%s\n' "${dfrss[@]}" | median)
    b=$(printf '%s\n' "${bases[@]}" | median)
    bm=$(printf '%s\n' "${brss[@]}" | median)
    printf '| %d | %d | %.3f | %.0f | %.3f | %.0f | %.3f | %.0f | %.2f | %.2f | %.2f | %.2f |\n' \
        "$n" "$changed" "$d" "$(calc "$dm / 1024")" "$f" "$(calc "$fm / 1024")" "$b" "$(calc "$bm / 1024")" \
        "$(calc "$f / $d")" "$(calc "$b / $d")" "$(calc "$fm / $dm")" "$(calc "$bm / $dm")"
done

# validate of one file, process start included: median of 21 runs.
one=$(find "$WORK/fleet-${SIZES[0]}/services" -name platform.yaml | sort | sed -n 1p)
vals=()
for _ in $(seq 21); do vals+=("$(timed "$PAVED" validate --quiet "$one")"); done
echo
printf -- '- `paved validate` of one file (process start included): %.1f ms (median of 21)\n' \
    "$(printf '%s\n' "${vals[@]}" | median | awk '{print $1 * 1000}')"

echo
echo "| services (paved lsp) | edits | open: first check (ms) | keystroke → diagnostics, median (ms) | p90 (ms) | max (ms) | RSS at start (MB) | RSS after the edits (MB) | edit + save → diagnostics, median (ms) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
    "$LSPBENCH" "$PAVED" "$WORK/fleet-$n" "${LSP_EDITS:-200}" | tr ' ' '\n' | awk -F= '
        NF == 2 { v[$1] = $2 }
        END { printf "| %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
              v["services"], v["edits"], v["open_ms"], v["median_ms"], v["p90_ms"], v["max_ms"],
              v["rss_start_mb"], v["rss_end_mb"], v["save_median_ms"] }'
done
