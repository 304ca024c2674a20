/** `lvsd plan`: what apply would change, terraform-style exit codes. */
import { formatOrderDrift, formatPlan, planToJson } from '../../plan/format.js';
import { type Command, CONFIG_OPTION, loadOrReport, planLiveWithDrift, withKernel } from '../command.js';

/** Exit codes of `lvsd plan` (terraform plan -detailed-exitcode). */
export const PLAN_NO_CHANGES = 0;
export const PLAN_CHANGES = 2;

export const planCommand: Command = {
  options: { ...CONFIG_OPTION, json: { type: 'boolean' }, reorder: { type: 'boolean' } },
  async run(values) {
    const loaded = await loadOrReport(values);
    if (!loaded) return 1;
    const reorder = values['reorder'] === true;
    const { plan, orderDrift } = await withKernel(loaded.state, (kernel) =>
      planLiveWithDrift(kernel, loaded.state, reorder),
    );
    // With --reorder the plan itself carries the fix; without, drift is reported and left alone (exit by the plan).
    const drift = reorder ? [] : orderDrift;
    if (values['json']) {
      const json = { ...planToJson(plan), ...(drift.length ? { orderDrift: drift } : {}) };
      process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    } else {
      process.stdout.write([...formatPlan(plan), ...drift.flatMap(formatOrderDrift)].join('\n') + '\n');
    }
    return plan.length ? PLAN_CHANGES : PLAN_NO_CHANGES;
  },
};
