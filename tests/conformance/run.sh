#!/usr/bin/env bash
# Conformance checks: do the manifests Paved renders pass the tools that will
# consume them (kustomize, checkov, promtool, Gatekeeper's Rego, Backstage)?
# And does `paved lsp` work with a real editor's client (Neovim)?
#
# The checks run on the committed golden trees, fixtures/*/expected/: a Rust
# test guarantees they are byte-identical to what paved renders, so checking
# them is checking paved's output, without building a release binary here.
# One more tree, a preview environment, is rendered here with a debug build
# (add_preview_tree).
#
# Each check is skipped, with a note, only while the files it reads do not
# exist yet (the blueprints producing them land over time). A missing tool is
# a failure, never a skip: .ci/run installs them all.
#
# Tools come from the venv at ${PAVED_CI_VENV:-$HOME/.cache/paved-ci/venv}
# and from tests/conformance/node/node_modules, both set up by .ci/run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONF="tests/conformance"
VENV="${PAVED_CI_VENV:-$HOME/.cache/paved-ci/venv}"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
# Importing rendered.py must not leave __pycache__ folders in the work tree.
export PYTHONDONTWRITEBYTECODE=1
cd "$ROOT"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

shopt -s nullglob
# Relative paths keep every message short and clickable from the repo root.
TREES=(fixtures/*/expected)

SKIP=200 # a check's return status meaning "nothing to check yet"

# Use as `skip "why"; return` so the caller returns the skip status.
skip() {
    echo "skip: $*"
    return "$SKIP"
}

# Fails (never skips) when a tool is missing.
need() {
    local tool ok=0
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "FAIL: '$tool' is not installed (.ci/run installs it)"
            ok=1
        fi
    done
    return "$ok"
}

need_python() {
    if [[ ! -x $PY ]]; then
        echo "FAIL: no Python venv at $VENV (.ci/run creates it)"
        return 1
    fi
    "$PY" -c "import $1" 2>/dev/null || {
        echo "FAIL: Python module '$1' is missing from $VENV (.ci/run installs it)"
        return 1
    }
}

# find(1) over every tree, NUL-separated, in a stable order.
find_in_trees() {
    ((${#TREES[@]} == 0)) && return 0
    find "${TREES[@]}" "$@" -print0 | sort -z
}

# The rendered Kubernetes YAML: everything but the Backstage catalog and the
# kustomizations (which kustomize reads, but which never reach a cluster).
k8s_files() {
    find_in_trees -type f \( -name '*.yaml' -o -name '*.yml' \) \
        -not -path '*/expected/catalog/*' -not -name 'kustomization.yaml'
}

# Note: the check_* functions run as `check_x || status=$?`, where bash
# ignores `set -e`, so each one tracks its own failures in `rc`.

check_kustomize() {
    need kubectl || return 1
    local files=() dir out rc=0
    mapfile -d '' files < <(find_in_trees -type f -name kustomization.yaml)
    ((${#files[@]})) || { skip "no kustomization.yaml rendered yet"; return; }
    for dir in "${files[@]%/kustomization.yaml}"; do
        if ! out="$(kubectl kustomize "$dir" 2>&1 >/dev/null)"; then
            echo "FAIL: kubectl kustomize $dir"
            echo "$out"
            rc=1
        fi
    done
    echo "kustomize: built ${#files[@]} folders"
    return "$rc"
}

# IDs from checkov-allowlist.txt, comma-separated for --skip-check.
checkov_skips() {
    local line id ids=()
    while IFS= read -r line || [[ -n $line ]]; do
        id="${line%%#*}"
        id="${id//[[:space:]]/}"
        [[ -z $id ]] && continue
        if [[ ! $id =~ ^CKV2?_K8S_[0-9]+$ ]]; then
            echo "FAIL: $CONF/checkov-allowlist.txt: '$id' is not a checkov Kubernetes check ID" >&2
            return 1
        fi
        ids+=("$id")
    done <"$CONF/checkov-allowlist.txt"
    (
        IFS=,
        echo "${ids[*]}"
    )
}

check_checkov() {
    need checkov || return 1
    local files=() args=() f skips
    mapfile -d '' files < <(k8s_files)
    ((${#files[@]})) || { skip "no rendered Kubernetes YAML yet"; return; }
    skips="$(checkov_skips)" || return 1
    for f in "${files[@]}"; do args+=(-f "$f"); done
    if [[ -n $skips ]]; then
        args+=(--skip-check "$skips")
        echo "checkov: allow-listed $skips"
    fi
    # Offline: --skip-download keeps checkov from fetching policies, and
    # BC_SKIP_MAPPING from fetching its guideline mapping.
    BC_SKIP_MAPPING=TRUE checkov --framework kubernetes --skip-download --compact --quiet "${args[@]}"
}

check_promtool() {
    need promtool || return 1
    need_python yaml || return 1
    local status=0 rules=()
    "$PY" "$CONF/promql_rules.py" "$TMP/promql" "${TREES[@]}" || status=$?
    if ((status == 3)); then
        skip "no PrometheusRule or Grafana dashboard rendered yet"
        return
    fi
    rules=("$TMP"/promql/*.yaml)
    if ((${#rules[@]})); then
        promtool check rules "${rules[@]}" || status=1
    fi
    return "$status"
}

# promtool unit tests generated from the rendered SLO rules: each burn-rate
# alert fires just above its rate and stays silent at 1x the budget, for
# availability and latency, with Prometheus 2 and 3 `le` forms.
check_promtool_tests() {
    need promtool || return 1
    need_python yaml || return 1
    local status=0 suites=()
    "$PY" "$CONF/promtool_tests.py" "$TMP/promtool-tests" "${TREES[@]}" || status=$?
    if ((status == 3)); then
        skip "no PrometheusRule with an SLO rendered yet"
        return
    fi
    ((status == 0)) || return "$status"
    suites=("$TMP"/promtool-tests/*.test.yaml)
    (cd "$TMP/promtool-tests" && promtool test rules "${suites[@]##*/}")
}

check_gatekeeper() {
    need_python regopy || return 1
    need_python jsonschema || return 1
    local templates=()
    mapfile -d '' templates < <(find_in_trees -path '*/expected/platform/gatekeeper/*.yaml')
    ((${#templates[@]})) || { skip "nothing rendered under platform/gatekeeper/ yet"; return; }
    local rc=0
    "$PY" "$CONF/gatekeeper_check.py" --bad "$CONF/gatekeeper-bad" "${TREES[@]}" || rc=1
    # The same policies against the platform's own controllers, in the
    # namespaces each tree's paved.yaml names, and against what Kubernetes
    # creates from the rendered workloads.
    "$PY" "$CONF/gatekeeper_system.py" "${TREES[@]}" || rc=1
    return "$rc"
}

check_backstage() {
    need node || return 1
    if [[ ! -d $CONF/node/node_modules/@backstage/catalog-model || ! -d $CONF/node/node_modules/@backstage/plugin-scaffolder-common || ! -d $CONF/node/node_modules/nunjucks ]]; then
        echo "FAIL: $CONF/node/node_modules is missing (.ci/run runs npm ci there)"
        return 1
    fi
    local files=() tree rc=0 case want out status
    mapfile -d '' files < <(find_in_trees -path '*/expected/catalog/*.yaml')
    ((${#files[@]})) || { skip "no catalog/*.yaml rendered yet"; return; }
    # One catalog per tree: entity refs must be unique within a rendered
    # tree (one catalog) and resolve within it, while separate fixtures may
    # reuse service names. --workspace places the files where the fixture's
    # paved.yaml commits them, so relative $text and dir: refs resolve.
    for tree in "${TREES[@]}"; do
        files=("$tree"/catalog/*.yaml)
        ((${#files[@]})) || continue
        node "$CONF/node/validate-catalog.mjs" --workspace "${tree%/expected}/input" "${files[@]}" || rc=1
    done
    # The check itself: catalogs it must refuse (or accept), with the reason.
    for case in "$CONF"/catalog-bad/*/; do
        case=${case%/}
        want="$(head -n1 "$case/expect")"
        status=0
        out="$(node "$CONF/node/validate-catalog.mjs" --workspace "$case/input" "$case"/expected/catalog/*.yaml 2>&1)" || status=$?
        if [[ $want == pass ]]; then
            ((status == 0)) || { echo "FAIL: $case should pass the catalog check:"; echo "$out"; rc=1; }
        elif ((status != 1)) || ! grep -qF -- "$(sed -n 2p "$case/expect")" <<<"$out"; then
            echo "FAIL: $case should fail the catalog check with: $(sed -n 2p "$case/expect")"
            echo "$out"
            rc=1
        fi
    done
    # The portal's Software Templates: the scaffolder's own validator, and
    # the skeleton rendered the way fetch:template renders it, which must be
    # what `paved init` (this checkout's) writes for the same answers.
    local paved target type templates=0 inits=()
    target="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    cargo build --locked --quiet --bin paved || { echo "FAIL: cannot build paved"; return 1; }
    paved="$target/debug/paved"
    for tree in "${TREES[@]}"; do
        files=("$tree"/catalog/templates/*.yaml)
        ((${#files[@]})) || continue
        templates=$((templates + ${#files[@]}))
        rm -rf "$TMP/init" && cp -r "${tree%/expected}/input" "$TMP/init"
        inits=()
        for type in service worker cronjob; do
            "$paved" init new-svc --type "$type" --dir "$TMP/init/.new/$type/new-svc" >/dev/null 2>&1 ||
                { echo "FAIL: paved init --type $type in ${tree%/expected}/input"; rc=1; continue; }
            inits+=(--init "$type=$TMP/init/.new/$type/new-svc/platform.yaml")
        done
        node "$CONF/node/validate-template.mjs" "${inits[@]}" "${files[@]}" || rc=1
    done
    # The check itself: a Template the scaffolder refuses, a skeleton that
    # loses an answer.
    mkdir -p "$TMP/bad" && cp -r fixtures/quickstart/expected/catalog/templates "$TMP/bad/"
    sed -i 's/^  type: service$/  typo: service/' "$TMP/bad/templates/paved-service.yaml"
    if node "$CONF/node/validate-template.mjs" "$TMP/bad/templates/paved-service.yaml" >/dev/null 2>&1; then
        echo "FAIL: validate-template.mjs accepts a Template without spec.type"; rc=1
    fi
    cp fixtures/quickstart/expected/catalog/templates/paved-service.yaml "$TMP/bad/templates/"
    sed -i 's/values\.image }}/values.imag }}/' "$TMP/bad/templates/paved-service/skeleton/platform.yaml"
    if node "$CONF/node/validate-template.mjs" "$TMP/bad/templates/paved-service.yaml" >/dev/null 2>&1; then
        echo "FAIL: validate-template.mjs accepts a skeleton that drops the image"; rc=1
    fi
    echo "backstage: ${#TREES[@]} trees checked ($templates Software Templates), the check refuses every catalog-bad case it should"
    return "$rc"
}

# The connectivity map of the rendered NetworkPolicies (network-config-analyzer,
# in its own venv: its pins conflict with checkov's) against the dependency
# graph of the inputs; see connectivity.py.
check_connectivity() {
    local nca_venv="${PAVED_CI_NCA_VENV:-$HOME/.cache/paved-ci/nca-venv}"
    if [[ ! -x $nca_venv/bin/nca ]]; then
        echo "FAIL: nca is not installed in $nca_venv (.ci/run installs it)"
        return 1
    fi
    local policies=()
    mapfile -d '' policies < <(find_in_trees -name 'networkpolicy-*.yaml')
    ((${#policies[@]})) || { skip "no NetworkPolicy rendered yet"; return; }
    "$nca_venv/bin/python" "$CONF/connectivity.py" "$nca_venv/bin/nca" "${TREES[@]}"
}

check_precommit() {
    need pre-commit || return 1
    [[ -f $CONF/precommit.sh ]] || { skip "$CONF/precommit.sh does not exist yet"; return; }
    bash "$CONF/precommit.sh"
}

# One editor session with a real client: Neovim's built-in LSP client (Debian
# bookworm's 0.7, vim.lsp.start_client) runs `paved lsp` on a copy of a
# bad-input case and must receive the diagnostic the case's expect.txt names,
# at the same line and column; a second session applies a quick fix.
check_nvim() {
    need nvim cargo || return 1
    local case=fixtures/invalid/unknown-field
    [[ -f $case/expect.txt ]] || { skip "$case does not exist"; return; }
    (cd "$ROOT" && cargo build --locked --quiet --bin paved) || return 1
    local target
    target="$(cargo metadata --format-version 1 --no-deps |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')" || return 1
    local dir="$TMP/nvim-case" out="$TMP/nvim-diagnostics.txt"
    mkdir -p "$dir" && cp -R "$case/." "$dir/"
    local code at file
    read -r code at file <"$case/expect.txt"
    echo "nvim $(nvim --version | head -n1 | cut -d' ' -f2), expecting $code at $file:$at"
    local rc=0
    PAVED_BIN="$target/debug/paved" PAVED_SPEC="$dir/$file" PAVED_OUT="$out" \
        timeout 120 nvim --headless -u NONE -i NONE -n \
        -c "luafile $CONF/nvim/diagnostics.lua" </dev/null || rc=$?
    if ((rc != 0)); then
        echo "FAIL: nvim exited with $rc (no diagnostics within its wait?)"
        cat "$out" 2>/dev/null
        return 1
    fi
    local want
    want="$(printf '%s\t%s\t%s\tpaved' "$code" "${at%%:*}" "${at##*:}")"
    if ! grep -qxF "$want" "$out"; then
        echo "FAIL: Neovim did not receive $code at $at; it received:"
        cat "$out"
        return 1
    fi
    echo "nvim received: $(tr '\t' ' ' <"$out")"

    # The quick fix for a literal secret, asked for and applied by Neovim:
    # the saved spec no longer holds the value, declares it under `secrets:`,
    # and `paved validate` finds only the other literal secret of the case.
    case=fixtures/invalid/secret-literal-value
    [[ -f $case/expect.txt ]] || { skip "$case does not exist"; return; }
    dir="$TMP/nvim-fix" out="$TMP/nvim-fix-diagnostics.txt"
    local actions="$TMP/nvim-fix-actions.txt"
    mkdir -p "$dir" && cp -R "$case/." "$dir/"
    rc=0
    PAVED_BIN="$target/debug/paved" PAVED_SPEC="$dir/platform.yaml" PAVED_OUT="$out" \
        PAVED_FIX=paved::secrets::literal PAVED_ACTIONS="$actions" \
        timeout 120 nvim --headless -u NONE -i NONE -n \
        -c "luafile $CONF/nvim/diagnostics.lua" </dev/null >/dev/null || rc=$?
    if ((rc != 0)); then
        echo "FAIL: nvim exited with $rc in the quick-fix session"
        return 1
    fi
    if ! grep -q 'Move `DB_PASSWORD` to `secrets:`.*secret store' "$actions"; then
        echo "FAIL: Neovim was not offered the secret's quick fix; it was offered:"
        cat "$actions"
        return 1
    fi
    if grep -q hunter2 "$dir/platform.yaml" || ! grep -q 'env: DB_PASSWORD, ref:' "$dir/platform.yaml"; then
        echo "FAIL: the applied quick fix left the value, or did not declare the secret:"
        cat "$dir/platform.yaml"
        return 1
    fi
    # (exit 1: the other literal secret is still there)
    local left findings="$TMP/nvim-fix-validate.json"
    "$target/debug/paved" validate --format json "$dir" >"$findings" 2>/dev/null || true
    left="$("$PY" -c 'import json, sys; print(" ".join(f["code"] + "@" + str(f["line"]) for f in map(json.loads, open(sys.argv[1])) ))' "$findings")"
    if [[ $left != "paved::secrets::literal@12" ]]; then
        echo "FAIL: after the quick fix, paved validate reports: $left (want only STRIPE_API_KEY's literal, at line 12)"
        cat "$dir/platform.yaml"
        return 1
    fi
    echo "nvim applied: $(head -n1 "$actions")"
}

# A preview environment (`paved render --preview`), checked like the golden
# trees by every check: the commerce fixture's preview 42 of checkout (and
# what checkout depends on), built with this checkout's paved, laid out as
# one environment folder, preview-42/, next to the main render's platform/
# folder (its Gatekeeper templates and reference Compositions serve every
# preview). The connectivity check thus analyses the preview on its own.
add_preview_tree() {
    need cargo || return 1
    cargo build --locked --quiet --bin paved || { echo "FAIL: cannot build paved"; return 1; }
    local target paved work="$TMP/preview-work" tree="$TMP/commerce-preview"
    target="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')" || return 1
    paved="$target/debug/paved"
    cp -r fixtures/commerce/input "$work" && mkdir "$work/.git"
    (cd "$work" && "$paved" render --quiet --out rendered &&
        "$paved" render --quiet --preview 42 checkout --out rendered) ||
        { echo "FAIL: paved render --preview 42 checkout of fixtures/commerce/input"; return 1; }
    [[ -f $work/rendered/previews/42/kustomization.yaml ]] ||
        { echo "FAIL: the preview has no kustomization.yaml"; return 1; }
    mkdir -p "$tree/expected"
    cp -r fixtures/commerce/input "$tree/input"
    cp -r "$work/rendered/platform" "$tree/expected/platform"
    cp -r "$work/rendered/previews/42" "$tree/expected/preview-42"
    TREES+=("$tree/expected")
}

PASSED=0 FAILED=0 SKIPPED=0
FAILED_CHECKS=()

run_check() {
    local name=$1 status=0 start=$SECONDS
    echo
    echo "== conformance: $name"
    "check_$name" || status=$?
    case $status in
    0)
        PASSED=$((PASSED + 1))
        echo "-- $name: passed ($((SECONDS - start))s)"
        ;;
    "$SKIP") SKIPPED=$((SKIPPED + 1)) ;;
    *)
        FAILED=$((FAILED + 1))
        FAILED_CHECKS+=("$name")
        echo "-- $name: FAILED ($((SECONDS - start))s)"
        ;;
    esac
}

add_preview_tree || { echo "conformance: cannot render the preview tree"; exit 1; }
echo "conformance: ${#TREES[@]} rendered trees: ${TREES[*]:-none yet}"
for check in kustomize checkov promtool promtool_tests gatekeeper backstage connectivity precommit nvim; do
    run_check "$check"
done

echo
((FAILED == 0)) || echo "failed checks: ${FAILED_CHECKS[*]}"
echo "conformance: $PASSED passed, $FAILED failed, $SKIPPED skipped"
((FAILED == 0))
