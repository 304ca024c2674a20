// `lvsd validate` on the 10,000-service x 10-real-server table written every
// way a config is written: flow style (one service per line), block style
// (one key per line, as docs/config.md writes it), each with CRLF line ends,
// a tab and a backslash in a comment, one unknown key, and one YAML syntax
// error. Whole process, 5 runs each: median wall time, its ratio to the LF
// flow file, median CPU time (user + system) and peak RSS. Runs on the host (validate needs no kernel):
//
//   npm run build && node bench/validate.mjs
//
// RUNS=3 N=1000 for a quicker look; DIST=path/to/dist to measure another
// build. The figures are in docs/performance.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configText, realServerAt, serviceAt } from './table.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.resolve(process.env.DIST ?? path.join(ROOT, 'dist'), 'cli/main.js');
const N = Number(process.env.N ?? 10000);
const R = 10;
const RUNS = Number(process.env.RUNS ?? 5);
// The node flags lvsd runs with: those of the CLI's shebang line.
const FLAGS = fs
  .readFileSync(CLI, 'utf8')
  .split('\n')[0]
  .split(/\s+/)
  .filter((a) => a.startsWith('--'));

/** The same table, one key per line. */
function blockText(n, r) {
  const out = ['version: 1', 'services:'];
  for (let i = 0; i < n; i++) {
    const s = serviceAt(i);
    out.push(`  - name: s${i}`, `    vip: ${s.vip}`, `    port: ${s.port}`, '    scheduler: wrr', '    realservers:');
    for (let j = 0; j < r; j++) {
      out.push(`      - address: ${realServerAt(j).address}`, `        weight: ${realServerAt(j).weight}`);
    }
  }
  return out.join('\n') + '\n';
}

const flow = configText(N, R);
const block = blockText(N, R);
const middle = (text, from, to) => {
  const at = text.indexOf(from, Math.floor(text.length / 2));
  return text.slice(0, at) + to + text.slice(at + from.length);
};
const cases = [
  ['flow, LF', flow, 0],
  ['flow, CRLF', flow.replaceAll('\n', '\r\n'), 0],
  ['flow, a tab and a backslash in a comment', flow.replace('services:', 'services: # \tC:\\lvsd'), 0],
  ['flow, one unknown key (middle)', middle(flow, 'scheduler: wrr', 'schedular: wrr'), 1],
  ['flow, one duplicate key (middle)', middle(flow, 'scheduler: wrr', 'scheduler: wrr, scheduler: rr'), 1],
  ['block, LF', block, 0],
  ['block, CRLF', block.replaceAll('\n', '\r\n'), 0],
  ['block, a tab and a backslash in a comment', block.replace('services:', 'services: # \tC:\\lvsd'), 0],
  ['block, one unknown key (middle)', middle(block, '    scheduler: wrr', '    schedular: wrr'), 1],
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-validate-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
try {
  for (const [name, text, expected] of cases) {
    const file = path.join(dir, 'lvsd.yaml');
    fs.writeFileSync(file, text);
    const times = [];
    const cpu = [];
    const rss = [];
    for (let k = 0; k < RUNS; k++) {
      const started = performance.now();
      const argv = ['-f', '%M %U %S', process.execPath, ...FLAGS, CLI, 'validate', '-c', file];
      const r = spawnSync('/usr/bin/time', argv, { encoding: 'utf8' });
      times.push(performance.now() - started);
      if (r.status !== expected) {
        throw new Error(`${name}: exit ${r.status}, expected ${expected}: ${r.stdout}${r.stderr.slice(0, 500)}`);
      }
      const [kb, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      rss.push(kb / 1024);
      cpu.push(user + sys);
    }
    rows.push({ name, mb: text.length / 1e6, s: median(times) / 1000, cpu: median(cpu), rss: median(rss) });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const base = rows[0].s;
const machine = `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores)`;
console.log(`lvsd validate, ${N.toLocaleString('en')} services x ${R} real servers, median of ${RUNS}, ${machine}`);
const head = ['file'.padEnd(44), 'MB'.padStart(5), 'time s'.padStart(7), 'x LF flow'.padStart(9)];
head.push('CPU s'.padStart(6), 'RSS MB'.padStart(7));
console.log(head.join(' '));
for (const r of rows) {
  const cells = [r.name.padEnd(44), r.mb.toFixed(1).padStart(5), r.s.toFixed(2).padStart(7)];
  cells.push((r.s / base).toFixed(2).padStart(9));
  console.log([...cells, r.cpu.toFixed(2).padStart(6), r.rss.toFixed(0).padStart(7)].join(' '));
}
