#!/usr/bin/env bash
# Fuzz khqr's decode/verify for a while (default 30 s).
#   crates/khqr/fuzz/run.sh [SECONDS]
# cargo-fuzz needs nightly-only rustc flags (-Z sanitizer=address); with only
# a stable toolchain, RUSTC_BOOTSTRAP=1 unlocks them.
set -euo pipefail
SECONDS_TO_RUN="${1:-30}"
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz…" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
mkdir -p corpus/decode
# Seed with the spec's example strings.
printf '%s' '00020101021129190015sokha_chan@aclb5204599953031165802KH5910Sokha Chan6010Phnom Penh6304F4AE' > corpus/decode/seed-static
printf '%s' '00020101021229170013dara_kim@wing52045999530384054042.505802KH5908Dara Kim6009Siem Reap62120108INV-0001993400131735689600000011317356902000006304710B' > corpus/decode/seed-dynamic
printf '%s' '00020101021129180014chan_dara@devb5204599953031165802KH5909Chan Dara6010Phnom Penh64300002km0109ចាន់ ដារា0207ភ្នំពេញ6304EDC9' > corpus/decode/seed-khmer
cargo fuzz run decode corpus/decode -- -max_total_time="$SECONDS_TO_RUN" -timeout=5 -max_len=4096
