#!/usr/bin/env bash
# The README's first Quick start command: on a Debian/Ubuntu machine, install
# what the demo needs if it is missing, then `npm start` (scripts/demo.mjs):
# LVS-DR end to end, configured by lvsd, inside User-Mode Linux (the
# machine's own kernel needs no IPVS).
#
#   user-mode-linux  the Linux 6.1 kernel (with IPVS) the demo runs in
#   ipvsadm kmod iproute2  ipvsadm, modprobe, ip and tc, used inside it
#   python3          the real servers' little HTTP/UDP servers
#
# apt is skipped when everything is present, `npm ci` when node_modules is
# up to date with package-lock.json. Uses sudo when not root. Needs Node.js
# 20.19 or later.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "demo: node not found; install Node.js 20.19 or later first (https://nodejs.org/)" >&2
  exit 1
fi

packages=(user-mode-linux ipvsadm kmod iproute2 python3)
# a command each package provides, to tell whether it is installed
declare -A provides=(
  [user-mode-linux]=linux.uml
  [ipvsadm]=ipvsadm
  [kmod]=modprobe
  [iproute2]=ip
  [python3]=python3
)

missing=()
for pkg in "${packages[@]}"; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${provides[$pkg]}" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "demo: installing ${missing[*]}" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "demo: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "demo: not root and sudo not found; install by hand: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# npm writes node_modules/.package-lock.json on every install
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci
fi

exec npm start
