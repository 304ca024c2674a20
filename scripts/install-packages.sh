#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages given as arguments when the command
# each provides is missing; skips apt entirely when all are present (so it
# works offline). Uses sudo when not root. Shared by scripts/demo.sh and
# test/install-and-test.sh.
#
#   scripts/install-packages.sh LABEL PACKAGE...
set -euo pipefail

label=$1
shift
# a command each package provides, to tell whether it is installed
declare -A provides=(
  [user-mode-linux]=linux.uml
  [ipvsadm]=ipvsadm
  [kmod]=modprobe
  [iproute2]=ip
  [ansible-core]=ansible-playbook
  [systemd]=systemd-analyze
  [python3]=python3
  [dpkg-dev]=dpkg-shlibdeps
  [binutils]=strip
  [prometheus]=promtool
  [bird2]=bird
)

missing=()
for pkg in "$@"; do
  cmd=${provides[$pkg]:-$pkg}
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "$label: $* already installed" >&2
  exit 0
fi
echo "$label: installing ${missing[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$label: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "$label: not root and sudo not found; install by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
