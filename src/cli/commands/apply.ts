/** `lvsd apply`: validate, plan, apply, and say what was done. */
import { applyPlan, type ApplyResult } from '../../apply/apply.js';
import { UNMANAGED_CLIENT } from '../../apply/live.js';
import { formatChange, formatOrderDrift, planToJson } from '../../plan/format.js';
import type { OrderDrift } from '../../plan/order.js';
import { type Command, CONFIG_OPTION, loadOrReport, planLiveWithDrift, withKernel } from '../command.js';

export const applyCommand: Command = {
  options: { ...CONFIG_OPTION, json: { type: 'boolean' }, reorder: { type: 'boolean' } },
  async run(values) {
    const loaded = await loadOrReport(values);
    if (!loaded) return 1;
    const reorder = values['reorder'] === true;
    const { result, orderDrift } = await withKernel(loaded.state, async (kernel) => {
      const planned = await planLiveWithDrift(kernel, loaded.state, reorder);
      const result = await applyPlan(planned.plan, kernel.ipvs ?? UNMANAGED_CLIENT, kernel.host);
      return { result, orderDrift: reorder ? [] : planned.orderDrift };
    });
    if (values['json']) process.stdout.write(JSON.stringify(applyJson(result, orderDrift), null, 2) + '\n');
    else {
      printText(result);
      // Left as it is: a plain apply never reorders; the lines say how.
      for (const line of orderDrift.flatMap(formatOrderDrift)) process.stdout.write(line + '\n');
    }
    return result.ok ? 0 : 1;
  },
};

/** Lines to stdout are written in chunks of about this many characters: one write per line was a system call per change. */
const CHUNK = 1 << 16;

function printText(result: ApplyResult): void {
  let out = '';
  for (const r of result.results) {
    const line = formatChange(r.change);
    if (r.status === 'ok') {
      out += `${line}\n`;
      if (out.length >= CHUNK) {
        process.stdout.write(out);
        out = '';
      }
      continue;
    }
    // What went to stdout so far goes first, so the two streams keep the plan's order on a terminal.
    if (out) process.stdout.write(out);
    out = '';
    process.stderr.write(`${r.status.toUpperCase()}: ${line}\n  ${r.error.code}: ${r.error.message}\n`);
  }
  if (out) process.stdout.write(out);
  if (result.results.length === 0) {
    process.stdout.write('No changes. The live table matches the config.\n');
    return;
  }
  const summary = `Applied ${result.applied} change${result.applied === 1 ? '' : 's'}, ${result.failed} failed, ${result.skipped} skipped.`;
  (result.ok ? process.stdout : process.stderr).write(summary + '\n');
}

function applyJson(result: ApplyResult, orderDrift: OrderDrift[]): unknown {
  const changes = planToJson(result.results.map((r) => r.change)).changes;
  return {
    ok: result.ok,
    applied: result.applied,
    failed: result.failed,
    skipped: result.skipped,
    changes: result.results.map((r, i) => ({
      ...changes[i],
      status: r.status,
      ...(r.status === 'ok' ? {} : { error: { code: r.error.code, message: r.error.message } }),
    })),
    ...(orderDrift.length ? { orderDrift } : {}),
  };
}
