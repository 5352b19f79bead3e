#!/usr/bin/env bash
# The action's result step (action.yml): fail the job for what validate and
# check found, and say which kind of failure it is. Exit statuses follow
# paved's: 0 clean, 1 findings, 2 a usage error (a path, the config or an
# option is wrong: the specs were not checked at all).
#
# env: VALIDATE (validate's status), CHECK (check's status; empty when skipped),
#      GATE (the risk categories `paved diff` failed on; empty when none)
set -euo pipefail

case ${VALIDATE:-} in
0) ;;
1)
    echo "::error::paved validate found errors in the specs (see the annotations)"
    exit 1
    ;;
2)
    echo "::error::paved validate could not run: a usage error (a path, the config or an option; see its log), not an error in the specs"
    exit 1
    ;;
*)
    echo "::error::paved validate stopped unexpectedly (status ${VALIDATE:-none}; see its log)"
    exit 1
    ;;
esac
case ${CHECK:-} in
"" | 0) ;;
1)
    echo "::error::rendered output is out of date: run \`paved render\` and commit the result"
    exit 1
    ;;
2)
    echo "::error::paved check could not run: a usage error (the output folder, a path or the config; see its log)"
    exit 1
    ;;
*)
    echo "::error::paved check stopped unexpectedly (status $CHECK; see its log)"
    exit 1
    ;;
esac
if [[ -n ${GATE:-} ]]; then
    echo "::error::risk gate: $GATE (the pull request has risks of these categories; fail-on input or paved.yaml review.failOn; see the risk summary in the comment)"
    exit 1
fi
echo "paved: specs valid$([[ ${CHECK:-} == 0 ]] && echo ", rendered output up to date")"
