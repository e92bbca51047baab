#!/usr/bin/env bash
# Sets up gst-mediaserver on Debian 12 (installs what is missing, builds it)
# and starts it on launch/default.conf. Extra arguments go to the server,
# e.g. ./run.sh -v   or   ./run.sh my-site.conf
#   ./run.sh --setup-only   installs and configures, then exits (used by test.sh)
set -euo pipefail
cd "$(dirname "$0")"

install_packages() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < data/debian-packages.txt
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "Installing: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure() {
  local dir="$1"; shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    meson setup "$dir" "$@"
  fi
}

install_packages
# The benchmark programs are built by ./test.sh --bench only (tests/bench).
configure build -Dtests=enabled -Dbenchmarks=disabled
# ./test.sh builds what each of its passes needs, no more.
[[ "${1:-}" == "--setup-only" ]] && exit 0
ninja -C build

config=launch/default.conf
for arg in "$@"; do
  [[ "$arg" == *.conf ]] && config=""
done
exec build/src/gst-mediaserver ${config:+"$config"} "$@"
