#!/usr/bin/env bash
# The pre-commit hooks of .pre-commit-hooks.yaml, proven with the real
# pre-commit tool: in a temporary Git repository with the hooks installed
# (`pre-commit install`), a commit with a bad platform.yaml is refused, a
# commit with stale rendered output is refused, and good commits are accepted.
#
# Offline by design. pre-commit clones a hook repository at a revision; this
# repository's .pre-commit-hooks.yaml may not be committed yet, so the file is
# copied into a throwaway hooks repository (a local path, no network) and the
# test repository's .pre-commit-config.yaml points there. The hooks are
# `language: system`, so the hook definitions are all that pre-commit needs;
# the `paved` they run is this checkout's, built here and put first on PATH.
#
# Run by tests/conformance/run.sh; needs `pre-commit` on PATH (the CI venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fail() {
    echo "FAIL: $*"
    exit 1
}

# The binary under test: this checkout, built the way the test suite builds it.
(cd "$ROOT" && cargo build --locked --quiet --bin paved)
TARGET="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
mkdir -p "$TMP/bin"
ln -s "$TARGET/debug/paved" "$TMP/bin/paved"
export PATH="$TMP/bin:$PATH"
# pre-commit's cache and the test repository's Git identity stay in $TMP.
export PRE_COMMIT_HOME="$TMP/pre-commit-home"
export GIT_CONFIG_GLOBAL="$TMP/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Paved CI"
git config --global user.email "ci@paved.invalid"
git config --global init.defaultBranch main
git config --global commit.gpgsign false

echo "pre-commit $(pre-commit --version | cut -d' ' -f2), paved at $(command -v paved)"

# 1. The hooks repository: this checkout's hook definitions, committed.
HOOKS="$TMP/hooks"
mkdir "$HOOKS"
cp "$ROOT/.pre-commit-hooks.yaml" "$HOOKS/"
git -C "$HOOKS" init -q
git -C "$HOOKS" add .pre-commit-hooks.yaml
git -C "$HOOKS" commit -q -m "paved hooks"
REV="$(git -C "$HOOKS" rev-parse HEAD)"

# 2. A service repository that uses them.
REPO="$TMP/repo"
mkdir -p "$REPO/services/orders"
cd "$REPO"
git init -q
cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $HOOKS
    rev: $REV
    hooks:
      - id: paved-validate
      - id: paved-check
EOF
good_spec() {
    cat <<'EOF'
apiVersion: paved.dev/v1
kind: Application
metadata:
  name: orders
  owner: team-orders
  costCenter: cc-1234
spec:
  image: ghcr.io/acme/orders:1.4.2
  ports:
    - {name: http, port: 8080}
EOF
}
good_spec >services/orders/platform.yaml
pre-commit install >/dev/null
[[ -x .git/hooks/pre-commit ]] || fail "pre-commit install did not install the Git hook"

# Commits go through the installed Git hook, as a developer's would.
commit() {
    git add -A
    git commit -q -m "$1" >"$TMP/out.txt" 2>&1
}

# A good commit: valid spec, output rendered and up to date.
paved render --quiet --out rendered
commit "orders: first version" || {
    cat "$TMP/out.txt"
    fail "a valid spec with up-to-date output was refused"
}
echo "ok: a valid spec with fresh output is accepted"

# A bad commit: a typo in a field. paved-validate refuses it, pointing at the line.
good_spec | sed 's/  ports:/  portz:/' >services/orders/platform.yaml
if commit "orders: typo"; then
    fail "a platform.yaml with an unknown field was accepted"
fi
grep -q "paved validate.*Failed" "$TMP/out.txt" || {
    cat "$TMP/out.txt"
    fail "paved-validate did not report the failure"
}
grep -q "paved::schema::unknown-field" "$TMP/out.txt" || {
    cat "$TMP/out.txt"
    fail "the refusal does not name the diagnostic"
}
grep -q "did you mean \`ports\`" "$TMP/out.txt" || fail "the refusal lacks the suggestion"
[[ "$(git rev-list --count HEAD)" == 1 ]] || fail "the bad commit was recorded"
echo "ok: an unknown field is refused by paved-validate"

# A stale commit: a valid spec change without a re-render. paved-check refuses it.
good_spec | sed 's/1.4.2/1.4.3/' >services/orders/platform.yaml
if commit "orders: 1.4.3 without render"; then
    fail "a spec change without a re-render was accepted"
fi
grep -q "paved check.*Failed" "$TMP/out.txt" || {
    cat "$TMP/out.txt"
    fail "paved-check did not report the stale output"
}
# The hook runs `paved check` with the default output folder (rendered/ in
# the workspace root), so the fix is the plain command.
grep -qx "    paved render" "$TMP/out.txt" || {
    cat "$TMP/out.txt"
    fail "the refusal does not give the fixing command"
}
echo "ok: stale rendered output is refused by paved-check"

# The fix the hook printed makes the commit go through.
paved render --quiet
commit "orders: 1.4.3" || {
    cat "$TMP/out.txt"
    fail "the re-rendered change was refused"
}
[[ "$(git rev-list --count HEAD)" == 2 ]] || fail "the good commit was not recorded"
echo "ok: after paved render the change is accepted"

# A hand edit of a generated file is refused too.
sed -i 's/replicas: 1$/replicas: 9/; s/imagePullPolicy: IfNotPresent/imagePullPolicy: Always/' \
    rendered/staging/orders/deployment-orders.yaml
echo "# hand edit" >>rendered/staging/orders/deployment-orders.yaml
if commit "hand edit"; then
    fail "a hand edit of a generated file was accepted"
fi
grep -q "stale:   rendered/staging/orders/deployment-orders.yaml" "$TMP/out.txt" || {
    cat "$TMP/out.txt"
    fail "paved-check did not name the edited file"
}
echo "ok: a hand edit of rendered output is refused by paved-check"
echo "precommit: all checks passed"
