#!/usr/bin/env bash
# Creates .venv, or brings it up to date, from a hash-pinned lock file. Cheap when nothing changed.
# Usage: deploy/venv.sh requirements.lock|requirements-dev.lock
set -euo pipefail
lock="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python=""
for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [ -z "$python" ]; then
  echo "policybot needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
want="$(cat "$root/$lock" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
stamp="$venv/.installed-$(basename "$lock")"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "Installing policybot into $venv from $lock ..." >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --require-hashes -r "$root/$lock"
"${pip[@]}" --no-deps -e "$root"
echo "$want" > "$stamp"
