#!/usr/bin/env bash
# Builds the Debian package of lvsd from the source tree with dpkg-deb (and
# dpkg-shlibdeps for the native addon's library dependencies; package dpkg-dev):
#
#   bash scripts/build-deb.sh [--no-build] [OUTDIR]    # default OUTDIR: the repository root
#
# prints the path of lvsd_VERSION-1_ARCH.deb. Only a missing node_modules sends
# it to the npm registry (npm ci); the package holds lvsd with the production
# packages of the lockfile, so installing it needs no network. --no-build
# packages the dist/ already built instead of running tsc first.
#
# Layout: /usr/lib/lvsd (dist/, schemas/, node_modules/, package.json),
# /usr/bin/lvsd (a wrapper that execs node, so the unit's main PID is lvsd),
# /lib/systemd/system/lvsd.service, /usr/lib/modules-load.d/lvsd.conf,
# /etc/lvsd/lvsd.yaml (a conffile that manages nothing), lvsd(8), and
# /usr/share/doc/lvsd. Maintainer scripts: deploy/debian/{postinst,prerm,postrm}.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=1
if [[ ${1:-} == --no-build ]]; then
  BUILD=0
  shift
fi
OUT=$(realpath "${1:-$ROOT}")
SRC=$ROOT/deploy/debian

VERSION=$(node -p 'require("./package.json").version')
DEBVERSION=$VERSION-1
ARCH=$(dpkg --print-architecture)
# the netlink addon's prebuilt binary for this architecture
case $ARCH in
  amd64) NODE_ARCH=x64 ;;
  arm64) NODE_ARCH=arm64 ;;
  armhf) NODE_ARCH=arm ;;
  i386) NODE_ARCH=ia32 ;;
  *) echo "build-deb: no prebuilt netlink binary for $ARCH" >&2; exit 1 ;;
esac
# Reproducible dates: the last commit's, else now.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
DATE_MAN=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
DATE_RFC=$(date -u -R -d "@$SOURCE_DATE_EPOCH")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lvsd-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PKG=$WORK/pkg
LIB=$PKG/usr/lib/lvsd
DOC=$PKG/usr/share/doc/lvsd

# --- build dist/ with the dev dependencies -------------------------------------
[[ -d node_modules/typescript ]] || npm ci --no-audit --no-fund
if ((BUILD)); then node node_modules/typescript/bin/tsc -p tsconfig.build.json; fi
[[ -f dist/cli/main.js ]] || { echo "build-deb: dist/ is not built (run without --no-build)" >&2; exit 1; }

# --- /usr/lib/lvsd: dist, schemas and the production node_modules -----------------
mkdir -p "$LIB/node_modules"
cp package.json "$LIB/"
cp -r dist schemas "$LIB/"
# The production packages of the lockfile (neither dev nor devOptional), copied
# from the node_modules `npm ci` installed: the same versions, and no network
# (the kernel tests build the package inside a test kernel that has none).
node -e '
  const lock = require("./package-lock.json");
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key.startsWith("node_modules/") && !entry.dev && !entry.devOptional) console.log(key);
  }' | while read -r dir; do
  [[ -d $dir ]] || { echo "build-deb: $dir missing: run npm ci" >&2; exit 1; }
  mkdir -p "$LIB/$dir"
  # nested node_modules are lockfile entries of their own
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 ! -name node_modules -exec cp -r {} "$LIB/$dir/" \;)
done
# What lvsd does not need at run time: docs, type declarations, sources of the
# addon, other architectures' binaries.
find "$LIB/node_modules" \( -iname '*.md' -o -iname '*.markdown' -o -name '*.d.ts' -o -name '*.d.mts' \
  -o -name '*.d.cts' -o -name '*.map' -o -name '*.ts' -o -name '.npmignore' -o -name '.eslintrc*' \
  -o -name '.editorconfig' -o -name '.github' -o -name '.travis.yml' -o -name '.husky' -o -name '.gitattributes' \
  -o -name '*.html' -o -name '*.sh' -o -name 'test' -o -name 'tests' -o -name 'benchmarks' \) \
  -prune -exec rm -rf {} +
# node-addon-api is the addon's build-time C++ header library
rm -rf "$LIB/node_modules/node-addon-api/tools"
# @types/node: type declarations (a dependency of netlink), nothing to run
rm -rf "$LIB/node_modules/netlink/src" "$LIB/node_modules/netlink/binding.gyp" "$LIB/node_modules/@types"
find "$LIB/node_modules/netlink/prebuilds" -mindepth 1 -maxdepth 1 ! -name "linux-$NODE_ARCH" -exec rm -rf {} +
[[ -f $LIB/node_modules/netlink/prebuilds/linux-$NODE_ARCH/node.napi.node ]] || {
  echo "build-deb: netlink has no prebuilt binary for linux-$NODE_ARCH" >&2
  exit 1
}
# Modes Debian expects: files 0644, directories 0755, scripts with a #! executable.
find "$PKG" -type d -exec chmod 0755 {} +
find "$PKG" -type f -exec chmod 0644 {} +
chmod 0755 "$LIB/dist/cli/main.js"
# the modules' own command-line scripts (yaml, pino, node-gyp-build): executable, as npm would make them
grep -rlZ --include='*.js' --include='*.mjs' --include='*.cjs' -m1 '^#!' "$LIB/node_modules" | xargs -0r chmod 0755
ADDON=$LIB/node_modules/netlink/prebuilds/linux-$NODE_ARCH/node.napi.node
# as dh_strip does for a shared object (binutils)
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$ADDON"
# The libraries the addon links (libc, libstdc++...), as dh_shlibdeps would find them.
mkdir -p "$WORK/shlibs/debian"
printf 'Source: lvsd\n\nPackage: lvsd\nArchitecture: any\n' > "$WORK/shlibs/debian/control"
SHLIBS=$(cd "$WORK/shlibs" && dpkg-shlibdeps -O -e "$ADDON" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $SHLIBS ]] || { echo "build-deb: dpkg-shlibdeps found no libraries for $ADDON" >&2; exit 1; }

# --- /usr/bin/lvsd ----------------------------------------------------------------
install -d -m 0755 "$PKG/usr/bin"
# node's flags come from the CLI's own #! line (one source: src/cli/main.ts).
NODE_FLAGS=$(head -n1 dist/cli/main.js | tr ' ' '\n' | grep -- '^--' | tr '\n' ' ')
cat > "$PKG/usr/bin/lvsd" <<EOF
#!/bin/sh
# lvsd, installed by the Debian package: run its CLI with the system's node.
# exec: the unit's main process is node itself (SIGHUP, SIGTERM, READY=1).
exec /usr/bin/node ${NODE_FLAGS}/usr/lib/lvsd/dist/cli/main.js "\$@"
EOF
chmod 0755 "$PKG/usr/bin/lvsd"

# --- systemd unit, modules-load file, conffile -----------------------------------
install -D -m 0644 deploy/lvsd.service "$PKG/lib/systemd/system/lvsd.service"
install -D -m 0644 deploy/modules-load.d/lvsd.conf "$PKG/usr/lib/modules-load.d/lvsd.conf"
install -D -m 0644 "$SRC/lvsd.yaml" "$PKG/etc/lvsd/lvsd.yaml"
install -d -m 0755 "$PKG/etc/lvsd/conf.d"

# --- man page and docs ---------------------------------------------------------------
install -d -m 0755 "$PKG/usr/share/man/man8" "$DOC"
sed -e "s/@VERSION@/$VERSION/g" -e "s/@DATE@/$DATE_MAN/g" "$SRC/lvsd.8" | gzip -9n > "$PKG/usr/share/man/man8/lvsd.8.gz"
for f in README.md docs/config.md docs/deploy.md; do gzip -9n < "$f" > "$DOC/$(basename "$f").gz"; done
install -d -m 0755 "$DOC/examples"
cp -r config/examples/. "$DOC/examples/"
find "$DOC/examples" -type d -exec chmod 0755 {} + && find "$DOC/examples" -type f -exec chmod 0644 {} +
node "$SRC/copyright.mjs" "$LIB/node_modules" > "$DOC/copyright"
chmod 0644 "$DOC/copyright"
{
  echo "lvsd ($DEBVERSION) unstable; urgency=medium"
  echo
  echo "  * Package lvsd $VERSION: built by scripts/build-deb.sh from the source tree."
  echo
  echo " -- lvsd developers <lvsd@example.org>  $DATE_RFC"
} | gzip -9n > "$DOC/changelog.Debian.gz"
install -D -m 0644 "$SRC/lintian-overrides" "$PKG/usr/share/lintian/overrides/lvsd"

# --- DEBIAN/ ------------------------------------------------------------------------
install -d -m 0755 "$PKG/DEBIAN"
install -m 0755 "$SRC/postinst" "$SRC/prerm" "$SRC/postrm" "$PKG/DEBIAN/"
echo /etc/lvsd/lvsd.yaml > "$PKG/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<EOF
Package: lvsd
Version: $DEBVERSION
Architecture: $ARCH
Maintainer: lvsd developers <lvsd@example.org>
Installed-Size: $SIZE
Depends: nodejs (>= 20.19), $SHLIBS
Recommends: systemd, kmod
Suggests: ipvsadm
Section: net
Priority: optional
Description: declarative manager for the Linux IPVS (LVS) load-balancer table
 lvsd keeps the kernel's IPVS table equal to one YAML file per host: it reads
 the live table over generic netlink, computes the difference and applies the
 smallest set of in-place changes, so established connections survive. Its
 daemon watches the file, runs health checks (quiescing a failed real server),
 corrects drift, and runs as a hardened systemd service with CAP_NET_ADMIN
 only. The installed configuration manages nothing until it is edited.
EOF
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  > "$PKG/DEBIAN/md5sums"
chmod 0644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/conffiles" "$PKG/DEBIAN/md5sums"

DEB=$OUT/lvsd_${DEBVERSION}_$ARCH.deb
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >&2
echo "$DEB"
