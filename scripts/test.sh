#!/usr/bin/env bash
# Set up and run every check and test: formatting, lints, unit, property and integration
# tests, the real app window end to end under Xvfb, a short fuzz run, and the benchmarks in
# test mode (`--all-targets` runs each benchmark once; `cargo bench` measures).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
times=()
step_name="setup"
step_start=$start
# Free space where the build goes: a CI run once stopped at 557 s with "No space left on
# device" in the middle of the build; each step's line says what was left.
free_disk() { df -h --output=avail . | tail -1 | tr -d ' '; }
# Each step's wall time, printed at the end (CI must stay within its budget).
step() {
  local now; now=$(date +%s)
  times+=("$(printf '%-8s %5d s   %s free after' "$step_name" $((now - step_start)) "$(free_disk)")")
  step_name="$1"; step_start=$now
  shift
  printf '\n\033[1m==> %s: %s\033[0m\n' "$step_name" "$*"
}
scripts/setup.sh test
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A build from a clean clone gains nothing from incremental compilation, and its caches
# were a third of the target directory (1.5 of 4.4 GB, clippy's on top): off unless asked.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "free disk at the start: $(free_disk) (a run needs about 6 GB: target/ ~4, fuzz/target ~1, the cargo registry ~1.2)"

step fmt "formatting"
cargo fmt --all -- --check

step clippy "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step build "everything once (the end-to-end, CLI and crash tests drive the till binary)"
# One package and target selection (the whole workspace, all targets) for the
# build and the tests, so dependencies are compiled once with one feature set
# (dev-dependencies change features: building without tests would compile the
# Tauri stack a second time, and fill the disk with it).
cargo build --workspace --all-targets --locked

step fuzz "every fuzz target, briefly (one build, a few seconds each)"
# An unoptimised fuzz build: the optimised one took 11 of CI's 44 minutes (2665 s in all,
# fresh clone, 2026-12-03), and five seconds a target only show each builds and runs.
TILL_FUZZ_BUILD="${TILL_FUZZ_BUILD:-dev}" scripts/fuzz.sh "${TILL_FUZZ_SECONDS:-5}"
# The fuzz build (its own workspace) is not needed by the tests: in CI its objects go
# now, so the disk holds one build at a time. Logs and crash inputs stay.
if [ "${CI:-}" = true ]; then rm -rf fuzz/target/{release,debug} fuzz/target/*/{release,debug}; fi

step tests "every suite, against that build"
# A private D-Bus session with an unlocked gnome-keyring: the OS keyring is real in tests.
dbus-run-session -- bash -c '
  set -euo pipefail
  # A keyring of this run only. gnome-keyring keeps its files under
  # XDG_DATA_HOME and its control socket under XDG_RUNTIME_DIR (else ~/.cache):
  # two runs on one machine shared them, and the second daemon locked the
  # collection of the first mid-run ("Cannot create an item in a locked
  # collection", 31 core tests failing at once).
  keyring_home=$(mktemp -d)
  # The daemon runs in the foreground, as a child of this shell, its output kept:
  # a fresh-clone run lost it in the middle of the core tests ("Message recipient
  # disconnected from message bus without replying", then a D-Bus-activated daemon with
  # a locked collection), and nothing said why. At the end, whatever the outcome, this
  # says whether it is still alive, and how it ended if not.
  mkdir -p target/test-logs
  keyring_log=target/test-logs/gnome-keyring.log
  report_keyring() {
    if [ -n "${keyring_pid:-}" ] && ! kill -0 "$keyring_pid" 2>/dev/null; then
      status=0; wait "$keyring_pid" || status=$?
      echo "gnome-keyring-daemon (pid $keyring_pid) ended during the run, status $status; its log:" >&2
      tail -n 40 "$keyring_log" >&2 || true
    fi
    rm -rf "$keyring_home"
  }
  trap report_keyring EXIT
  export XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  printf "till-test\n" | gnome-keyring-daemon --foreground --unlock --components=secrets >"$keyring_log" 2>&1 &
  keyring_pid=$!
  # The daemon answers before its collection is ready: on a loaded machine a
  # fixed pause was not always enough ("Cannot create an item in a locked
  # collection"). Wait until an item can really be stored (at most 15 s).
  ready=0
  for _ in $(seq 1 75); do
    if printf ready | secret-tool store --label="till test keyring ready" till-ci ready 2>/dev/null; then
      ready=1; break
    fi
    sleep 0.2
  done
  [ "$ready" = 1 ] || { echo "the test keyring did not become ready" >&2; exit 1; }
  # One test at a time per suite: gnome-keyring-daemon 42.1 (Debian 12) aborts under
  # concurrent Secret Service requests (GLib-ERROR "g_variant_new: expected GVariant of
  # type v but received value has type (null)", status 133), 2 runs of 2 for the core
  # suite at two threads, 0 of 1 at one thread (80 passed in 75 s against 70 s). The
  # request that trips it is not found yet; see the closing note of 2026-12-03.
  # --nocapture: the end-to-end tests name their screenshots, the crash test its seed.
  RUST_TEST_THREADS="${RUST_TEST_THREADS:-1}" cargo test --workspace --locked --all-targets -- --nocapture
  cargo test --workspace --locked --doc
'

step done ""
echo
printf '%s\n' "${times[@]}"
echo "all checks passed in $(( $(date +%s) - start )) s"
