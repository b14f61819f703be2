#!/usr/bin/env bash
# Issue 17's bar on councils the product has never seen (tests/eval/unseen/README.md): draft each
# council's policy with `policybot kb draft`, check it, and score its questions. Prints, per
# council, the drafting time, kb check's verdict and eval's figures.
# Usage: tools/unseen.sh [--keep DIR]
source "$(dirname "${BASH_SOURCE[0]}")/drafts.sh"
for council in tests/eval/unseen/*/; do
  org="$(basename "$council")"
  policy="$(ls "$council"policy.* | head -1)"
  start=$EPOCHREALTIME
  .venv/bin/policybot kb draft "$policy" --org "$org" --into "$drafts" >/dev/null
  took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
  checked="$(.venv/bin/policybot --knowledge "$drafts/$org" kb check --org "$org" | tail -1)"
  echo "== $org ($(basename "$policy")): drafted in ${took} s, kb check: $checked"
  .venv/bin/policybot --knowledge "$drafts/$org" eval "$council/questions.yaml" \
    | grep -E "cases  top-1|^ +all "
done
