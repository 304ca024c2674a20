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

# ansible-core and systemd: the deploy tests (playbook syntax, unit security score);
# python3: the e2e LAN's real servers; dpkg-dev and binutils: scripts/build-deb.sh
# (dpkg-shlibdeps, strip), which the systemd kernel test runs; prometheus: promtool
# (alert rules, a real /metrics scrape); keepalived: the takeover test builds its
# table with Debian's keepalived (its unit does not start without a config),
# and the HA tests run it for VRRP; bird2: the scale-out tests (BGP, ECMP).
bash scripts/install-packages.sh install-and-test user-mode-linux ipvsadm kmod iproute2 ansible-core systemd python3 dpkg-dev binutils prometheus keepalived bird2

npm ci
npm test
