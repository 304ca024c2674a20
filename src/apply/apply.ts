/**
 * Sends a plan to the kernel in dependent phases (the phase each change
 * carries, plan/change.ts) and reports, change by change, what happened. A
 * failure stops only what depends on it.
 */
import { LvsdError, isLvsdError } from '../errors.js';
import type { HostClient } from '../host/client.js';
import type { IpvsClient } from '../ipvs/client.js';
import type { HostOp, IpvsOp, OpResult } from '../model/ops.js';
import { type Change, isHostChange, PHASES, phaseIndex, type Plan } from '../plan/change.js';

/** What became of one change. `skipped`: never sent, because something it needs failed. */
export type ChangeResult =
  { change: Change; status: 'ok' } | { change: Change; status: 'failed' | 'skipped'; error: LvsdError };

/** The outcome of applying a plan: one result per change, in plan order. */
export interface ApplyResult {
  /** True when every change was applied. */
  ok: boolean;
  results: ChangeResult[];
  /** How many changes were applied, rejected, and not sent. */
  applied: number;
  failed: number;
  skipped: number;
}

function asLvsdError(e: unknown): LvsdError {
  if (isLvsdError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LvsdError('IPVS_IO', `sending to the kernel failed: ${message}`, { cause: e });
}

/**
 * Sends the plan's operations, one batched `execute` per phase in PHASES
 * order (host settings and new addresses; timeouts and service adds/edits;
 * real server adds, edits and deletes; service deletes; addresses whose
 * services are gone), each change in the phase it carries. The real server
 * changes of a service whose add failed are not sent and come back `skipped`
 * (APPLY_SKIPPED, naming the service); every other change is sent even when
 * others failed. If a batch cannot be sent at all, its changes fail with that
 * error and the later phases are skipped.
 */
export async function applyPlan(plan: Plan, client: IpvsClient, host?: HostClient): Promise<ApplyResult> {
  const results: (ChangeResult | undefined)[] = plan.map(() => undefined);
  const phases: number[][] = PHASES.map(() => []);
  plan.forEach((c, i) => phases[phaseIndex(c.phase)]!.push(i));

  const failedAdds = new Map<string, LvsdError>();
  let broken: LvsdError | undefined;

  for (const phase of phases) {
    const send: number[] = [];
    for (const i of phase) {
      const c = plan[i]!;
      const cause = broken ?? neededFailure(c, failedAdds);
      if (cause) results[i] = { change: c, status: 'skipped', error: skipError(c, cause, broken !== undefined) };
      else if (c.problem)
        results[i] = { change: c, status: 'failed', error: new LvsdError('HOST_UNSUPPORTED', c.problem) };
      else send.push(i);
    }
    if (send.length === 0) continue;

    let outcomes: OpResult[];
    try {
      outcomes = await sendPhase(
        send.map((i) => plan[i]!),
        client,
        host,
      );
    } catch (e) {
      broken = asLvsdError(e);
      for (const i of send) results[i] = { change: plan[i]!, status: 'failed', error: broken };
      continue;
    }

    send.forEach((i, n) => {
      const c = plan[i]!;
      const r = outcomes[n] ?? {
        ok: false,
        error: new LvsdError('IPVS_PROTOCOL', `no result for operation ${n + 1} of ${send.length}`),
      };
      if (r.ok) {
        results[i] = { change: c, status: 'ok' };
        return;
      }
      results[i] = { change: c, status: 'failed', error: r.error };
      if (c.kind === 'service' && c.action === 'add') failedAdds.set(c.service, r.error);
    });
  }

  const done = results as ChangeResult[];
  const count = (s: ChangeResult['status']) => done.filter((r) => r.status === s).length;
  const applied = count('ok');
  return { ok: applied === done.length, results: done, applied, failed: count('failed'), skipped: count('skipped') };
}

/** Why `c` cannot be sent: its service (or, for an announce, one of its services) could not be added. */
function neededFailure(c: Change, failedAdds: ReadonlyMap<string, LvsdError>): LvsdError | undefined {
  if (c.kind === 'realserver') return failedAdds.get(c.service);
  if (c.kind === 'announce') for (const s of c.needs ?? []) if (failedAdds.has(s)) return failedAdds.get(s);
  return undefined;
}

/** One phase's operations go to the IPVS client or to the host client: never mixed (a phase has one kind: change.ts). */
async function sendPhase(changes: Change[], client: IpvsClient, host: HostClient | undefined): Promise<OpResult[]> {
  if (!isHostChange(changes[0]!)) return client.execute(changes.map((c) => c.op as IpvsOp));
  if (!host) throw new LvsdError('HOST_UNSUPPORTED', 'host changes need a host client');
  return host.execute(changes.map((c) => c.op as HostOp));
}

function skipError(c: Change, cause: LvsdError, batchBroken: boolean): LvsdError {
  const message = batchBroken
    ? `not sent: an earlier batch could not be sent (${cause.message})`
    : `not sent: service ${c.service ?? (c.kind === 'announce' ? c.needs?.join(', ') : undefined) ?? '?'} could not be added (${cause.code}: ${cause.message})`;
  return new LvsdError('APPLY_SKIPPED', message, {
    cause,
    details: {
      service: c.service,
      ...(c.realserver !== undefined ? { realserver: c.realserver } : {}),
      causeCode: cause.code,
    },
  });
}
