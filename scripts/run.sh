#!/usr/bin/env bash
# Set up and run Till (demo profile unless ~/.config/till/till.toml or TILL_CONFIG says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh app
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "[run] no display: run this from a desktop session (or set DISPLAY)" >&2
  exit 1
fi
exec cargo run -p till-app --bin till -- "$@"
