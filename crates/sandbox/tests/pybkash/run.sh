#!/usr/bin/env bash
# Fidelity check: the third-party PyPI client `pybkash` runs its flows against
# a till-sandbox. Usage: run.sh BASE_ORIGIN USERNAME PASSWORD APP_KEY APP_SECRET
# Creates a virtualenv under target/pybkash-venv (override: PYBKASH_VENV).
# Exit 3: the environment cannot run it (no python3 / venv / pip download).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../../../.." && pwd)"
venv="${PYBKASH_VENV:-$workspace/target/pybkash-venv}"
version="${PYBKASH_VERSION:-0.4.2}"

command -v python3 >/dev/null 2>&1 || { echo "pybkash: python3 not found" >&2; exit 3; }
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pybkash" 2>/dev/null; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv" >&2 || { echo "pybkash: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 3; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pybkash==$version" >&2 \
        || { echo "pybkash: pip install pybkash==$version failed" >&2; exit 3; }
fi
exec "$venv/bin/python" "$here/fidelity.py" "$@"
