#!/usr/bin/env bash
# The action's diff step (action.yml): the markdown report of what the pull
# request does to the rendered resources, for the comment and the job summary.
#
# `paved diff` runs without `--exit-code`, so its exit 1 means a risk of a
# gated category (`--fail-on`, else paved.yaml's `review.failOn`): the
# categories go to the `gate` output and the result step fails the job. Whether
# anything changed is read from the report. When the comment had to be folded,
# the whole text report is printed here, in the job log, as its note says.
#
# env: PAVED_PATHS, PAVED_CONFIG, PAVED_BASE (empty: the base branch BASE_REF),
#      PAVED_FAIL_ON (empty: paved.yaml's default), RUNNER_TEMP, GITHUB_OUTPUT,
#      GITHUB_STEP_SUMMARY
set -euo pipefail

base=${PAVED_BASE:-}
if [[ -z $base ]]; then
    # actions/checkout fetches one commit (the merge of the pull request into
    # its base); the base branch's tip is the other side, and only its tree
    # is read, so one commit of it is enough.
    git fetch --no-tags --quiet --depth=1 origin "+refs/heads/$BASE_REF:refs/remotes/origin/$BASE_REF"
    base="origin/$BASE_REF"
fi
args=(--base "$base")
[[ -n ${PAVED_CONFIG:-} ]] && args+=(--config "$PAVED_CONFIG")
[[ -n ${PAVED_FAIL_ON:-} ]] && args+=(--fail-on "$PAVED_FAIL_ON")
report=$RUNNER_TEMP/paved-diff.md
errors=$RUNNER_TEMP/paved-diff.err
set +e
# shellcheck disable=SC2086 # paths are space-separated on purpose
paved diff "${args[@]}" --format markdown ${PAVED_PATHS:-.} >"$report" 2>"$errors"
status=$?
set -e
cat "$errors" >&2
# With no report, exit 1 is the base revision's specs failing to compile
# (their errors are above); over 1, paved could not run.
if [[ $status -gt 1 || ! -s $report ]]; then
    echo "::warning::paved diff could not compare with $base (see the log)"
    exit 0
fi
if grep -q '^No changes: ' "$report"; then
    echo "changed=false" >>"$GITHUB_OUTPUT"
else
    echo "changed=true" >>"$GITHUB_OUTPUT"
fi
if [[ $status == 1 ]]; then
    gate=$(sed -n 's/^paved diff: risk gate: //p' "$errors" | head -n 1)
    echo "gate=${gate:-a gated risk category}" >>"$GITHUB_OUTPUT"
fi
echo "report=true" >>"$GITHUB_OUTPUT"
cat "$report" >>"$GITHUB_STEP_SUMMARY"
if grep -q "^> Cut \(to stay\|at this line to stay\) under GitHub's comment size limit" "$report"; then
    # The comment was folded: the whole report, here. Names in it come from
    # the specs, so workflow commands are off while it prints.
    token=paved-$RANDOM$RANDOM$RANDOM
    echo "::group::paved diff: the whole report (the comment is folded)"
    echo "::stop-commands::$token"
    # shellcheck disable=SC2086
    paved diff "${args[@]}" --format text ${PAVED_PATHS:-.} 2>&1 || true
    echo "::$token::"
    echo "::endgroup::"
fi
