#!/usr/bin/env node
// Prints debian/copyright (machine-readable format 1.0) for the lvsd package:
// lvsd itself, then one paragraph per bundled node module, with the license
// text the module ships. Used by scripts/build-deb.sh:
//   node deploy/debian/copyright.mjs STAGED_NODE_MODULES > .../copyright
import fs from 'node:fs';
import path from 'node:path';

const modulesDir = process.argv[2];
if (!modulesDir) {
  process.stderr.write('usage: copyright.mjs NODE_MODULES_DIR\n');
  process.exit(2);
}

/** Every package directory under node_modules (scoped ones included), sorted. */
function packageDirs(dir) {
  const out = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (name.startsWith('@')) out.push(...packageDirs(full));
    else if (fs.existsSync(path.join(full, 'package.json'))) {
      out.push(full);
      const nested = path.join(full, 'node_modules');
      if (fs.existsSync(nested)) out.push(...packageDirs(nested));
    }
  }
  return out;
}

/** The license file a module ships, or undefined. */
function licenseText(dir) {
  const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(txt|md))?$/i.test(f));
  return file ? fs.readFileSync(path.join(dir, file), 'utf8') : undefined;
}

/** DEP-5 continuation lines: each line indented, empty lines as " .". */
const indent = (text) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l.trimEnd()}`))
    .join('\n');

const holderOf = (pkg, text) => {
  const lines = (text ?? '')
    .split('\n')
    .filter((l) => /copyright\s+(\(c\)|©|\d{4})/i.test(l))
    .map((l) => l.trim());
  if (lines.length > 0) return lines.map((l) => l.replace(/^copyright\s*(\(c\)|©)?\s*/i, '')).join('\n ');
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  return author ?? `the ${pkg.name} authors`;
};

const out = [
  'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
  'Upstream-Name: lvsd',
  'Comment: The package bundles the node modules lvsd needs at run time under',
  ' /usr/lib/lvsd/node_modules; each is listed below with the license it ships.',
  '',
  'Files: *',
  'Copyright: 2026 the lvsd authors',
  'License: Apache-2.0',
  ' On Debian systems the full text of the Apache License 2.0 is in',
  ' /usr/share/common-licenses/Apache-2.0.',
];
for (const dir of packageDirs(modulesDir)) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
  const text = licenseText(dir);
  const rel = path.relative(path.dirname(modulesDir), dir);
  out.push('', `Files: usr/lib/lvsd/${rel}/*`, `Copyright: ${holderOf(pkg, text)}`, `License: ${license}`);
  if (license === 'Apache-2.0') {
    out.push(
      ' On Debian systems the full text of the Apache License 2.0 is in',
      ' /usr/share/common-licenses/Apache-2.0.',
    );
  } else if (text) out.push(indent(text));
  else out.push(` ${pkg.name} ${pkg.version} ships no license file; its package.json says ${license}.`);
}
process.stdout.write(`${out.join('\n')}\n`);
