#!/usr/bin/env bash
# Issue 17's honest measure: leave one council out. Draft each shipped council from its raw text
# in ../shared/policies/ with `policybot kb draft` (questions borrowed only from the other four),
# serve it with --knowledge, and score that council's questions from the given evaluation files
# (default ../shared/eval/dev.yaml and real.yaml).
# Usage: tools/leave_one_out.sh [--keep DIR] [FILE...]
# --keep DIR leaves the five drafts in DIR, for `policybot calibrate ... --drafts DIR`. The
# shipped drafted weights were fitted on these drafts, so for a council never seen the figures to
# trust are calibrate's, where each draft is answered by weights fitted on the other four.
source "$(dirname "${BASH_SOURCE[0]}")/drafts.sh"
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(../shared/eval/dev.yaml ../shared/eval/real.yaml)
for org in chelmsford derbyshire gloucestershire west-dunbartonshire wiltshire; do
  .venv/bin/policybot kb draft "../shared/policies/$org.txt" --org "$org" --into "$drafts" >/dev/null
  .venv/bin/python - "$org" "$out/$org.yaml" "${sets[@]}" <<'PY'
import sys, yaml
org, target, *files = sys.argv[1:]
cases = [case for name in files for case in yaml.safe_load(open(name)) if case["org"] == org]
yaml.safe_dump(cases, open(target, "w"), sort_keys=False)
PY
  echo "== $org (drafted, questions borrowed from the other four)"
  .venv/bin/policybot --knowledge "$drafts/$org" eval "$out/$org.yaml" \
    | grep -E "cases  top-1|^ +all |^unasked routes"
done
