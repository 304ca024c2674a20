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

bash scripts/install-packages.sh demo user-mode-linux ipvsadm kmod iproute2 python3

# npm writes node_modules/.package-lock.json on every install
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci
fi

exec npm start
