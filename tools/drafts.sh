# Sourced by tools/leave_one_out.sh and tools/unseen.sh: what both do before drafting councils.
# Takes `--keep DIR` off the command line (the drafts are left in DIR, for `policybot calibrate
# --drafts DIR` or a look; otherwise they go in a temporary folder removed on exit), sets
# `drafts` to that folder and `out` to a temporary one, and moves to the checkout.
set -euo pipefail
keep=""
if [ "${1:-}" = "--keep" ]; then
  keep="$(realpath -m "$2")"
  shift 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
drafts="${keep:-$out/drafts}"
