#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run) on a fresh clone:
# install the kernel test bed (User-Mode Linux, ipvsadm, kmod, iproute2) on a
# Debian/Ubuntu machine if it is missing, install the node dependencies, run
# `npm test` (unit suite on the host, kernel suite inside User-Mode Linux).
#
# apt is skipped entirely when everything is already present, so this also
# works offline. Uses sudo when not root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(user-mode-linux ipvsadm kmod iproute2 ansible-core systemd python3)
# a command each package provides, to tell whether it is installed
declare -A provides=(
  [user-mode-linux]=linux.uml
  [ipvsadm]=ipvsadm
  [kmod]=modprobe
  [iproute2]=ip
  [ansible-core]=ansible-playbook
  [systemd]=systemd-analyze
  [python3]=python3
)

missing=()
for pkg in "${packages[@]}"; do
  cmd=${provides[$pkg]}
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-and-test: installing ${missing[*]}" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-and-test: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-and-test: not root and sudo not found; install by hand: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-and-test: ${packages[*]} already installed" >&2
fi

npm ci
npm test
