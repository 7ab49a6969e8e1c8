#!/usr/bin/env bash
# Install what Till needs on a Debian machine, skipping what is already there.
#   scripts/setup.sh app    — to build and run the app
#   scripts/setup.sh test   — everything the test suite needs as well
# Runs as root, or through sudo when it is available.
set -euo pipefail

what="${1:-app}"

APP_PACKAGES=(build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  librsvg2-dev libayatana-appindicator3-dev libxdo-dev libdbus-1-dev)
# poppler-utils: pdftotext / pdftoppm read back the day reports' PDFs in the tests.
# dbus-bin: dbus-send asks the session bus who holds the app's single-instance name.
# e2fsprogs + mount: the disk-full test makes a small ext4 image and loop-mounts it (as root).
# nodejs (+ npm, see install_npm_tool): crates/receipt's tests decode its ESC/POS bytes with a
# third-party decoder (npm npos).
# python3-xlib: tests/x11/x11.py closes a window as a window manager would and captures the
# X screen as a person sees it (what WebDriver cannot do).
# python3-requests: crates/terminal-api's test POS (tests/pos_client.py) is a Python client.
# chromium + chromium-driver: the hub's office dashboard is tested in headless Chromium over
# WebDriver (crates/hub/tests/dashboard).
TEST_PACKAGES=(xvfb webkit2gtk-driver zbar-tools gnome-keyring libsecret-tools dbus-x11 dbus-bin libsecret-1-dev
  poppler-utils python3 python3-venv python3-pip python3-xlib python3-requests postgresql e2fsprogs mount nodejs chromium chromium-driver)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else say "need root (or sudo) to run: $*"; exit 1; fi
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_packages() {
  local missing
  missing=$(missing_packages "$@")
  if [ -z "$missing" ]; then return; fi
  say "installing Debian packages:" $missing
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

need_cargo() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    say "cargo is missing: install Rust (1.90 or newer) with rustup, then run this again"
    exit 1
  fi
}

install_cargo_tool() { # install_cargo_tool BINARY CRATE [VERSION]
  local bin="$1" crate="$2" version="${3:-}"
  if command -v "$bin" >/dev/null 2>&1 || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/$bin" ]; then return; fi
  say "installing $crate with cargo"
  cargo install --locked "$crate" ${version:+--version "$version"}
}

install_npm_tool() { # install_npm_tool DIR — the packages pinned by DIR/package-lock.json, into DIR/node_modules
  local dir="$1"
  # Debian's nodejs comes without npm (its own package); NodeSource's includes it and conflicts
  # with Debian's npm, so the package only when the command is missing.
  command -v npm >/dev/null 2>&1 || install_packages npm
  if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then return; fi
  say "installing npm packages in $dir"
  # --ignore-scripts: npos pulls in usb (a native addon) it never loads for parsing; nothing here needs a build.
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
}

need_cargo
install_packages "${APP_PACKAGES[@]}"
if [ "$what" = "test" ]; then
  install_packages "${TEST_PACKAGES[@]}"
  install_cargo_tool tauri-driver tauri-driver 2.1.0
  # scripts/fuzz.sh (the same version there, for a run without setup).
  install_cargo_tool cargo-fuzz cargo-fuzz 0.13.2
  install_npm_tool "$(dirname "$0")/../crates/receipt/tests/escpos-render"
fi
say "ready ($what)"
