#!/usr/bin/env bash
# Build the release .deb packages of Till into target/packages/:
#   till_<version>_<arch>.deb      the app (binary, desktop entry, icon, man page)
#   till-hub_<version>_<arch>.deb  the hub (binary, systemd unit, /etc/till-hub/env)
# The package metadata is in src-tauri/Cargo.toml and crates/hub/Cargo.toml
# ([package.metadata.deb]); the unit, env file, desktop entry and maintainer
# scripts in packaging/. Versions come from the workspace (Cargo.toml).
#
#   scripts/package.sh          build the packages
#   scripts/package.sh --test   build them, then install, use and purge them on
#                               this machine (as root; log in target/packages/package-test.log)
#
# --test is not part of CI: two release builds do not fit its budget.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

test_mode=0
case "${1:-}" in
  "") ;;
  --test) test_mode=1 ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: scripts/package.sh [--test]" >&2; exit 2 ;;
esac

# The build's own needs (WebKitGTK headers, …), as for scripts/run.sh.
scripts/setup.sh app
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
out="$root/target/packages"
mkdir -p "$out"

if [ "$test_mode" = 1 ]; then
  # Everything from here on, build included, goes to the log too.
  exec > >(tee "$out/package-test.log") 2>&1
fi

start=$(date +%s)

# cargo-deb rather than Tauri's bundler: it installs in about a minute
# (tauri-cli compiles several times longer), packages a workspace member by
# name (the app's Cargo package is src-tauri/ while tauri.conf.json sits at the
# root), and makes the hub's package (systemd unit, conffiles, maintainer
# scripts) with the same tool. Pinned, and built from its lock file.
CARGO_DEB_VERSION=3.8.0
if [[ "$(cargo deb --version 2>/dev/null || true)" != *"$CARGO_DEB_VERSION"* ]]; then
  echo "[package] installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked
fi
# cargo-deb's $auto dependencies come from dpkg-shlibdeps (dpkg-dev).
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "[package] dpkg-shlibdeps missing: installing dpkg-dev"
  sudo_=(); [ "$(id -u)" = 0 ] || sudo_=(sudo)
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dpkg-dev
fi

# The workspace's version, as cargo resolves it (`…#till-app@0.1.0`).
pkgid=$(cargo pkgid --locked -p till-app)
version=${pkgid##*@}
echo "[package] version $version"

build_start=$(date +%s)
# One cargo invocation for both binaries: their shared dependencies are built
# once, with one feature set.
nice cargo build --release --locked -p till-app -p till-hub
build_secs=$(( $(date +%s) - build_start ))

# The man page is gzipped as Debian policy wants; cargo-deb takes it from here.
mkdir -p "$out/stage"
gzip -9n < packaging/till/till.1 > "$out/stage/till.1.gz"

rm -f "$out"/till_*.deb "$out"/till-hub_*.deb
# --no-build: the binaries above (cargo-deb strips them). cargo-deb adds the
# Debian revision: till_0.1.0-1_amd64.deb.
cargo deb --no-build -p till-app -o "$out/"
cargo deb --no-build -p till-hub -o "$out/"
app_deb=$(ls "$out"/till_"$version"-*_*.deb)
hub_deb=$(ls "$out"/till-hub_"$version"-*_*.deb)
echo
echo "[package] release build ${build_secs} s, packaging done in $(( $(date +%s) - start )) s:"
for deb in "$app_deb" "$hub_deb"; do
  printf '  %-60s %6s KiB\n' "${deb#"$root"/}" "$(( $(stat -c %s "$deb") / 1024 ))"
done

[ "$test_mode" = 1 ] || exit 0

# --- The package test ------------------------------------------------------
# Installs both packages on this machine, uses them as a person and as
# systemd would, purges them, and checks nothing of them is left.
if [ "$(id -u)" != 0 ]; then
  echo "[package] --test installs packages: run it as root" >&2
  exit 2
fi
passed=0
failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
# check NAME FUNCTION...: runs it, PASS or FAIL by its exit status (its output shown).
# (A function run as an `if` condition runs without set -e: each chains with &&.)
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
work=$(mktemp -d)
hub_pid=""
cleanup() {
  # A hub this test started, should a step have failed before stopping it.
  if [ -z "$hub_pid" ] && [ -s "$work/run/pid" ]; then hub_pid=$(cat "$work/run/pid"); fi
  if [ -n "$hub_pid" ]; then kill -INT "$hub_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo
echo "[test] install"
# Not installed before: a leftover would hide what the packages do.
for p in till till-hub; do
  if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$'; then
    echo "[test] $p is installed already: purging it first"
    dpkg --purge "$p"
  fi
done
# What the packages hold, and which of those paths are new on this machine:
# after the purge none of the new ones may be left.
for deb in "$app_deb" "$hub_deb"; do dpkg-deb --fsys-tarfile "$deb" | tar -t; done |
  sed 's|^\./|/|; s|/$||' | grep -v '^/\?$' | sort -u > "$work/contents"
while read -r path; do
  if [ ! -e "$path" ]; then echo "$path"; fi
done < "$work/contents" > "$work/new-paths"

install_both() {
  # dpkg -i leaves packages with missing dependencies unconfigured;
  # apt-get -f installs those dependencies and finishes the configuration.
  dpkg -i "$app_deb" "$hub_deb" || apt-get -f install -y
  local status; status=$(dpkg-query -W -f='${Status}\n' till till-hub)
  [ "$(grep -c '^install ok installed$' <<<"$status")" = 2 ]
}
check "dpkg -i both packages (apt-get -f install for dependencies)" install_both
# (dpkg -L lists "/." and a blank line between packages: neither is a path.)
dpkg -L till till-hub | grep -v -e '^/\.$' -e '^$' | sort -u > "$work/files"
echo "[test] dpkg -L: $(wc -l < "$work/files") paths, $(wc -l < "$work/new-paths") of them new on this machine"

till_version() {
  local v; v=$(till --version) && echo "$v" && [ "$v" = "till $version" ]
}
check "till --version says $version" till_version

till_help() {
  # Captured, not piped: grep -q closing the pipe early fails under pipefail.
  local help; help=$(till --help) &&
    grep -q 'TILL_HOME' <<<"$help" && grep -q '.local/share/till' <<<"$help" &&
    [ -f /usr/share/man/man1/till.1.gz ] && zgrep -q 'WHERE DATA LIVES' /usr/share/man/man1/till.1.gz
}
check "till --help and man page say where data lives" till_help

desktop_entry() {
  [ -f /usr/share/applications/till.desktop ] &&
    [ -f /usr/share/icons/hicolor/256x256/apps/till.png ] &&
    grep -q '^Exec=till$' /usr/share/applications/till.desktop
}
check "desktop entry and icon installed" desktop_entry

# Tauri embeds ui/ (fonts included) in the binary at compile time.
fonts_embedded() { grep -q -a 'NotoSansBengali-Regular.ttf' /usr/bin/till; }
check "Noto fonts embedded in /usr/bin/till" fonts_embedded

user_home="$work/home"
demo_charge() {
  # A fresh home and no till.toml: demo mode, which settles by itself and
  # needs no keyring.
  local out last
  out=$(till --home "$user_home" charge --provider demo --amount 12.50 --json --timeout 60) &&
    last=$(tail -n 1 <<<"$out") && echo "$last" &&
    grep -q '"state":"settled"' <<<"$last"
}
check "till charge --provider demo against a fresh --home" demo_charge
listed() { local l; l=$(till --home "$user_home" list) && grep -q '12.50' <<<"$l"; }
check "till list shows the payment" listed

kiosk() {
  # The autostart entry runs the installed binary's supervisor on this home.
  local cfg="$work/config" entry
  XDG_CONFIG_HOME="$cfg" till --home "$user_home" kiosk enable &&
    entry=$(grep '^Exec=' "$cfg/autostart/till.desktop") && echo "$entry" &&
    [ "$entry" = "Exec=\"/usr/bin/till\" --home \"$user_home\" kiosk run" ] &&
    XDG_CONFIG_HOME="$cfg" till --home "$user_home" kiosk disable &&
    [ ! -e "$cfg/autostart/till.desktop" ]
}
check "till kiosk enable writes the autostart entry, disable removes it" kiosk

# till-hub as till-hub.service runs it: its user, its env file, its working
# directory, ExecStartPre then ExecStart, all read from the installed unit.
unit=/usr/lib/systemd/system/till-hub.service
unit_value() { sed -n "s/^$1=//p" "$unit" | head -n 1; }
hub_user() {
  getent passwd till-hub | grep -q ':/var/lib/till-hub:' &&
    [ "$(stat -c %U /var/lib/till-hub)" = till-hub ] && [ "$(unit_value User)" = till-hub ]
}
check "system user till-hub owns /var/lib/till-hub" hub_user
env_mode() { [ "$(stat -c '%U:%G %a' /etc/till-hub/env)" = "root:till-hub 640" ]; }
check "/etc/till-hub/env is root:till-hub 0640" env_mode

# A free port rather than the env file's 8787: this machine may run a hub already.
port=18787
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
# The hub's shell writes its pid here, then execs the hub: the pid to signal.
chmod 711 "$work"
install -d -o till-hub -g till-hub "$work/run"
run_as_unit() {
  # The env file is plain KEY=value lines, which sh reads as systemd does.
  # shellcheck disable=SC2016
  runuser -u "$(unit_value User)" -- env -i PATH=/usr/bin:/bin sh -c '
    set -a; . "$1"; set +a
    export TILL_HUB_LISTEN="$2"
    cd "$3"
    echo $$ > "$4"
    shift 4
    exec "$@"' sh "$(unit_value EnvironmentFile)" "127.0.0.1:$port" \
    "$(unit_value WorkingDirectory)" "$work/run/pid" "$@"
}
hub_init() {
  # shellcheck disable=SC2046 # ExecStartPre is a command line to split
  run_as_unit $(unit_value ExecStartPre) &&
    [ -f /var/lib/till-hub/till-hub.db ] &&
    [ "$(stat -c %a /var/lib/till-hub/till-hub-secret.key)" = 600 ]
}
check "ExecStartPre (till-hub init) as till-hub: database and 0600 key in /var/lib/till-hub" hub_init
rm -f "$work/run/pid"
# shellcheck disable=SC2046
run_as_unit $(unit_value ExecStart) > "$work/hub.log" 2>&1 &
hub_job=$!
healthz() {
  local body
  for _ in $(seq 1 75); do
    if body=$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null); then
      # Written before the hub was exec'd, so there once it answers.
      hub_pid=$(cat "$work/run/pid")
      echo "GET /healthz on port $port (pid $hub_pid, user $(ps -o user= -p "$hub_pid")): $body"
      return 0
    fi
    kill -0 "$hub_job" 2>/dev/null || break
    sleep 0.2
  done
  cat "$work/hub.log"
  return 1
}
check "ExecStart (till-hub serve) answers GET /healthz" healthz
hub_stops() {
  # KillSignal=SIGINT, as the unit says.
  [ -n "$hub_pid" ] && kill -INT "$hub_pid" || return 1
  for _ in $(seq 1 50); do
    if ! kill -0 "$hub_pid" 2>/dev/null; then
      hub_pid=""
      rm -f "$work/run/pid"
      wait "$hub_job"
      return
    fi
    sleep 0.2
  done
  return 1
}
check "till-hub stops on SIGINT" hub_stops

echo
echo "[test] purge"
check "dpkg --purge till till-hub" dpkg --purge till till-hub
nothing_left() {
  local left=0 path
  # dpkg -L listed what the .debs hold (said, not assumed).
  if ! diff "$work/files" "$work/contents"; then echo "dpkg -L differs from the .debs' contents"; left=1; fi
  # Every one of those paths that was not there before the install.
  while read -r path; do
    if [ -e "$path" ] || [ -L "$path" ]; then echo "left: $path"; left=1; fi
  done < "$work/new-paths"
  for path in /etc/till-hub /var/lib/till-hub; do
    if [ -e "$path" ]; then echo "left: $path"; left=1; fi
  done
  if getent passwd till-hub >/dev/null; then echo "left: user till-hub"; left=1; fi
  if getent group till-hub >/dev/null; then echo "left: group till-hub"; left=1; fi
  if [ -n "$(dpkg-query -W -f='${Status}\n' till till-hub 2>/dev/null)" ]; then
    echo "left: dpkg still knows a package"; left=1
  fi
  [ "$left" = 0 ]
}
check "nothing of the packages is left (their files, /etc/till-hub, /var/lib/till-hub, the user)" nothing_left
user_data_kept() { [ -d "$user_home" ] && [ -n "$(ls -A "$user_home")" ] && ls "$user_home"; }
check "the user's data (the test's --home) is kept" user_data_kept

echo
echo "[test] $passed passed, $failed failed ($(( $(date +%s) - start )) s in all, release build ${build_secs} s)"
[ "$failed" = 0 ]
