#!/usr/bin/env bash
# Fuzz the parsers that read what comes from outside (fuzz/fuzz_targets/): build all
# targets once, run each for SECONDS (default 60) one after the other, print a table.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   TILL_FUZZ_RUNS=N scripts/fuzz.sh 0 bkash_answer   # stop after N executions instead
# Exits non-zero when a target crashed (or broke an invariant, which is a panic); the
# input is kept in fuzz/artifacts/<target>/ and the run's log in fuzz/target/fuzz-logs/.
# Replay one with: fuzz/target/<host>/release/<target> fuzz/artifacts/<target>/crash-…
# (…/debug/… after a TILL_FUZZ_BUILD=dev run)
#
# Built without a sanitizer by default: our code has no `unsafe`, so what a run can find
# is panics, overflows (debug assertions and overflow checks are on), hangs and runaway
# memory, and AddressSanitizer would halve the executions per second for nothing more.
# TILL_FUZZ_SANITIZER=address builds with it. cargo-fuzz passes nightly-only rustc flags
# for sanitizers; with only a stable toolchain RUSTC_BOOTSTRAP=1 allows them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds="$1"; shift; fi
runs="${TILL_FUZZ_RUNS:-}"
sanitizer="${TILL_FUZZ_SANITIZER:-none}"

# The same pinned cargo-fuzz as scripts/setup.sh, so a fresh clone can run this alone.
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION…" >&2
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export RUSTC_BOOTSTRAP=1

all=$(cargo fuzz list)
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets <<<"$all"; fi
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$all" || { echo "no fuzz target $t (have: $(echo $all))" >&2; exit 2; }
done

# One build for every target (they share one crate and its dependencies).
# TILL_FUZZ_BUILD=dev builds without optimisation: less than half the build time (4.8
# against 11.2 minutes from clean on two cores), for runs of a few seconds that only have
# to show each target builds and survives its seeds (`scripts/test.sh` does this); the
# executions a second drop, so measure and hunt with the default, optimised build.
build="${TILL_FUZZ_BUILD:-release}"
case "$build" in
  release) profile_flag=(--release); profile_dir=release ;;
  dev) profile_flag=(--dev); profile_dir=debug ;;
  *) echo "TILL_FUZZ_BUILD is release or dev, not $build" >&2; exit 2 ;;
esac
cargo fuzz build "${profile_flag[@]}" -s "$sanitizer"
host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="fuzz/target/$host/$profile_dir"
logs=fuzz/target/fuzz-logs
mkdir -p "$logs"

# Seeds from the repository's own test data, added to the (ignored) working corpus;
# fuzz/seeds/<target>/ holds the committed ones, crash inputs kept as seeds included.
seed_from_tests() {
  local t="$1" corpus="$2" i=0 s f
  case "$t" in
    khqr_decode)
      while IFS= read -r s; do
        i=$((i + 1)); printf '%s' "$s" > "$corpus/vector-$i"
      done < <(grep -o '"000201[^"]*"' tests/data/khqr-vectors.json | tr -d '"')
      ;;
    bkash_callback)
      while IFS= read -r s; do
        i=$((i + 1)); printf '%s' "$s" > "$corpus/redirect-$i"
      done < <(grep -o '"https\?://[^"]*"' tests/data/bkash-fixtures/callback/redirects.json | tr -d '"')
      ;;
    bkash_ipn)
      for f in tests/data/bkash-fixtures/ipn/sns-*.json; do
        cp "$f" "$corpus/fixture-$(basename "$f")"
      done
      ;;
    bkash_answer)
      for f in tests/data/bkash-fixtures/*/*.json; do
        cp "$f" "$corpus/fixture-$(basename "$(dirname "$f")")-$(basename "$f")"
      done
      ;;
  esac
}

rows=()
failed=0
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "fuzz/seeds/$t"
  seed_from_tests "$t" "$corpus"
  before=$(find "$artifacts" -maxdepth 1 -type f | wc -l)
  limit=(-max_total_time="$seconds")
  if [ -n "$runs" ]; then limit=(-runs="$runs"); fi
  printf '\n\033[1m==> fuzz %s\033[0m\n' "$t"
  rc=0
  # New inputs go to the first directory (the working corpus); the seeds are only read.
  "$bin_dir/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "fuzz/seeds/$t" >"$logs/$t.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  # A run that stopped on a crash prints no final stats: its last status line counts.
  : "${execs:=$(grep -o '^#[0-9]*' "$logs/$t.log" | tail -1 | tr -d '#')}"
  after=$(find "$artifacts" -maxdepth 1 -type f | wc -l)
  crashes=$((after - before))
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="error"; fi
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -m1 -B2 -A20 -E "panicked|ERROR: libFuzzer|SUMMARY" "$logs/$t.log" || tail -30 "$logs/$t.log"
  fi
  tail -1 "$logs/$t.log"
  rows+=("$(printf '%-16s %14s %10s %8s' "$t" "${execs:-?}" "${speed:-?}" "$crashes")")
done

echo
printf '%-16s %14s %10s %8s\n' target executions exec/s crashes
printf '%s\n' "${rows[@]}"
exit "$failed"
