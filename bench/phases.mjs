// Where the time of `lvsd apply` / `lvsd plan` goes: the same steps as the
// CLI (load the config, read the table, diff, send), timed one by one.
//
//   node bench/phases.mjs apply|plan FILE      prints one JSON object
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadConfig } = await import(path.join(ROOT, 'dist/config/load.js'));
const { openIpvs } = await import(path.join(ROOT, 'dist/ipvs/netlink-client.js'));
const { diff } = await import(path.join(ROOT, 'dist/plan/diff.js'));
const { applyPlan } = await import(path.join(ROOT, 'dist/apply/apply.js'));

const [mode, file] = process.argv.slice(2);
const ms = (t0) => Math.round(performance.now() - t0);
const out = {};
let t0 = performance.now();
const loaded = await loadConfig(file);
out.loadMs = ms(t0);
if (!loaded.ok) throw new Error(loaded.errors.map(String).join('\n'));
const client = await openIpvs();
t0 = performance.now();
const live = await client.readTable();
out.readMs = ms(t0);
t0 = performance.now();
const plan = diff(loaded.state, live);
out.diffMs = ms(t0);
out.ops = plan.length;
if (mode === 'apply') {
  t0 = performance.now();
  const result = await applyPlan(plan, client);
  out.writeMs = ms(t0);
  if (!result.ok) throw new Error(`${result.failed} failed`);
}
client.close();
process.stdout.write(JSON.stringify(out) + '\n');
