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
# And, on the 1000-service fleet (COST_SIZE), whether the cost model slows
# `validate` or `render --dry-run`: the same fleet with paved.yaml's price
# table and budgets (every team in every environment, and a few services)
# and without them (the same teams), alternating, medians of COST_RUNS runs
# (default 7), and the ratio. `BENCH_ONLY=cost bash bench/run.sh` runs only
# this part.
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

# The cost model on or off (docs/cost.md): two copies of one fleet whose
# paved.yaml differ only by `cost`, `budgets` and `serviceBudgets`. Budgets
# are high, so nothing is over: the time is the estimate, not a report.
cost_section() {
    local n=${COST_SIZE:-1000} runs=${COST_RUNS:-7} base=$WORK/cost-off priced=$WORK/cost-on
    local teams="payments orders search identity growth platform data mobile" t e
    rm -rf "$base" "$priced"
    "$GEN" "$n" "$base" 2>/dev/null
    {
        echo "  teams:"
        for t in $teams; do echo "    team-$t: {group: \"sso:$t\"}"; done
    } >>"$base/paved.yaml"
    cp -r "$base" "$priced"
    {
        echo "  cost:"
        echo "    currency: EUR"
        echo "    cpuPerCoreHour: 0.04"
        echo "    memoryPerGiBHour: 0.005"
        echo "    resources:"
        echo "      postgresql: {small: 30, standard: 60, large: 120, storagePerGBMonth: 0.1}"
        echo "      redis: {small: 10, standard: 20, large: 40}"
        echo "      bucket: {perGiBMonth: 0.02, assumedGiB: 100}"
        echo "  budgets:"
        for t in $teams; do
            echo "    team-$t: {staging: 1000000, production: 1000000, dev: 1000000}"
        done
        echo "  serviceBudgets:"
        for e in 00000 00001 00002 00003 00004; do
            echo "    svc-$e: {staging: 100000, production: 100000}"
        done
    } >>"$priced/paved.yaml"
    # Both must be clean (a warning would add its report's time to one side).
    "$PAVED" validate --quiet "$base" >/dev/null
    "$PAVED" validate --quiet "$priced" >/dev/null
    "$PAVED" render --quiet "$priced" --out "$WORK/cost-out" >/dev/null
    local annotated
    annotated=$(grep -rl '^    paved.dev/monthly-cost:' "$WORK/cost-out/catalog" | wc -l)
    rm -rf "$WORK/cost-out"
    # The same two, with the dashboards' cost panels taken out by a
    # blueprint override on both sides: what is left is the render context
    # (prices, the catalog's estimates) and the annotation, without the
    # panels' bytes.
    local d
    for d in "$base" "$priced"; do
        rm -rf "$d-np" && cp -r "$d" "$d-np" && mkdir -p "$d-np/bp/service"
        grep -vF '(["cost", "idle_cost"] if cost else [])' blueprints/service/dashboard.yaml \
            >"$d-np/bp/service/dashboard.yaml"
        echo "  blueprints: bp" >>"$d-np/paved.yaml"
    done
    local bytes_off bytes_on
    "$PAVED" render --quiet "$base" --out "$WORK/cost-out" >/dev/null
    bytes_off=$(du -sb "$WORK/cost-out" | cut -f1)
    rm -rf "$WORK/cost-out"
    "$PAVED" render --quiet "$priced" --out "$WORK/cost-out" >/dev/null
    bytes_on=$(du -sb "$WORK/cost-out" | cut -f1)
    rm -rf "$WORK/cost-out"
    local vo=() vp=() ro=() rp=() no=() np=() load_before
    load_before=$(uptime | sed 's/.*load average: //')
    for _ in $(seq "$runs"); do
        vo+=("$(timed "$PAVED" validate --quiet "$base")")
        vp+=("$(timed "$PAVED" validate --quiet "$priced")")
        ro+=("$(timed "$PAVED" render --quiet --dry-run "$base" --out "$WORK/none-cost")")
        rp+=("$(timed "$PAVED" render --quiet --dry-run "$priced" --out "$WORK/none-cost")")
        no+=("$(timed "$PAVED" render --quiet --dry-run "$base-np" --out "$WORK/none-cost")")
        np+=("$(timed "$PAVED" render --quiet --dry-run "$priced-np" --out "$WORK/none-cost")")
    done
    local mvo mvp mro mrp mno mnp
    mvo=$(printf '%s\n' "${vo[@]}" | median)
    mvp=$(printf '%s\n' "${vp[@]}" | median)
    mro=$(printf '%s\n' "${ro[@]}" | median)
    mrp=$(printf '%s\n' "${rp[@]}" | median)
    mno=$(printf '%s\n' "${no[@]}" | median)
    mnp=$(printf '%s\n' "${np[@]}" | median)
    echo
    echo "Cost model on ($annotated catalog files with paved.dev/monthly-cost) and off, $n services, medians of $runs alternating runs; load average before: $load_before, after: $(uptime | sed 's/.*load average: //')"
    echo
    echo "| command | without cost (s) | with cost and budgets (s) | with / without |"
    echo "|---|---:|---:|---:|"
    printf '| validate | %.3f | %.3f | %.3f |\n' "$mvo" "$mvp" "$(calc "$mvp / $mvo")"
    printf '| render --dry-run | %.3f | %.3f | %.3f |\n' "$mro" "$mrp" "$(calc "$mrp / $mro")"
    printf '| render --dry-run, no cost panels on either side | %.3f | %.3f | %.3f |\n' "$mno" "$mnp" "$(calc "$mnp / $mno")"
    echo
    echo "- rendered bytes: without $bytes_off, with $bytes_on ($(calc "$bytes_on / $bytes_off"))"
    echo "- runs (s): validate without ${vo[*]}; with ${vp[*]}"
    echo "- runs (s): render --dry-run without ${ro[*]}; with ${rp[*]}"
    echo "- runs (s): no cost panels, without ${no[*]}; with ${np[*]}"
}

if [[ ${BENCH_ONLY:-} == cost ]]; then
    cost_section
    exit 0
fi

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

cost_section
