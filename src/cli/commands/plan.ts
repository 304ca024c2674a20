/** `lvsd plan`: what apply would change, terraform-style exit codes. */
import { formatPlan, planToJson } from '../../plan/format.js';
import { type Command, CONFIG_OPTION, loadOrReport, planLive, withKernel } from '../command.js';

/** Exit codes of `lvsd plan` (terraform plan -detailed-exitcode). */
export const PLAN_NO_CHANGES = 0;
export const PLAN_CHANGES = 2;

export const planCommand: Command = {
  options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
  async run(values) {
    const loaded = await loadOrReport(values);
    if (!loaded) return 1;
    const plan = await withKernel(loaded.state, (kernel) => planLive(kernel, loaded.state));
    if (values['json']) process.stdout.write(JSON.stringify(planToJson(plan), null, 2) + '\n');
    else process.stdout.write(formatPlan(plan).join('\n') + '\n');
    return plan.length ? PLAN_CHANGES : PLAN_NO_CHANGES;
  },
};
