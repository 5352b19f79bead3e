#!/usr/bin/env bash
# The action's comment step (action.yml): post the diff report as the one
# pull-request comment of this action, or edit it on later pushes. Only a
# comment of the token's own user, starting with the marker, is edited: a
# comment someone else wrote is never touched. A GitHub API failure is a
# warning, never a failed job: the report is in the job summary anyway.
#
# Usage: comment.sh REPORT_FILE   (env: REPO, PR, GH_TOKEN)
set -uo pipefail

body=${1:?usage: comment.sh REPORT_FILE}
marker='<!-- paved-diff -->'
warn() {
    echo "::warning::paved: $*; the diff is in the job summary"
    exit 0
}

# The token's user: a personal token can read /user; the Actions token (an
# app installation) cannot, and comments as github-actions[bot].
me=$(gh api user --jq .login 2>/dev/null) || me=""
[[ $me =~ ^[A-Za-z0-9][-A-Za-z0-9]*(\[bot\])?$ ]] || me="github-actions[bot]"

ids=$(gh api "repos/$REPO/issues/$PR/comments" --paginate \
    --jq ".[] | select(.user.login == \"$me\" and (.body | startswith(\"$marker\"))) | .id") ||
    warn "could not list the pull request's comments (GitHub API error)"
id=$(printf '%s\n' "$ids" | head -n 1)

if [[ -n $id ]]; then
    gh api --method PATCH "repos/$REPO/issues/comments/$id" -F "body=@$body" >/dev/null ||
        warn "could not update the pull-request comment (a fork's token is read-only, or the API failed)"
    echo "paved: updated comment $id"
else
    gh api --method POST "repos/$REPO/issues/$PR/comments" -F "body=@$body" >/dev/null ||
        warn "could not post the pull-request comment (a fork's token is read-only, or the API failed)"
    echo "paved: posted the diff comment"
fi
