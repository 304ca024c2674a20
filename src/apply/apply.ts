/**
 * Sends a plan to the kernel in three dependent phases and reports, change by
 * change, what happened. A failure stops only what depends on it.
 */
import { LvsdError, isLvsdError } from '../errors.js';
import type { HostClient } from '../host/client.js';
import type { IpvsClient } from '../ipvs/client.js';
import type { HostOp, IpvsOp, OpResult } from '../model/ops.js';
import type { Change, Plan } from '../plan/diff.js';

/** What became of one change. `skipped`: never sent, because something it needs failed. */
export type ChangeResult =
  | { change: Change; status: 'ok' }
  | { change: Change; status: 'failed' | 'skipped'; error: LvsdError };

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

const isHost = (c: Change): boolean => c.kind === 'address' || c.kind === 'sysctl' || c.kind === 'link';

/**
 * Phase 0: host settings, the tunnel device and new addresses (ready before
 * traffic comes). Phase 1: timeouts, service adds and edits. Phase 2: real
 * server changes (they need their service). Phase 3: service deletes (after
 * their traffic has somewhere else to go). Phase 4: addresses whose services
 * are gone.
 */
function phaseOf(c: Change): 0 | 1 | 2 | 3 | 4 {
  if (isHost(c)) return c.kind === 'address' && c.action === 'delete' ? 4 : 0;
  if (c.kind === 'realserver') return 2;
  if (c.kind === 'service' && c.action === 'delete') return 3;
  return 1;
}

function asLvsdError(e: unknown): LvsdError {
  if (isLvsdError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LvsdError('IPVS_IO', `sending to the kernel failed: ${message}`, { cause: e });
}

/**
 * Sends the plan's operations, one batched `client.execute` per phase:
 * timeouts and service adds/edits; then real server adds, edits and deletes;
 * then service deletes. The real server changes of a service whose add
 * failed are not sent and come back `skipped` (APPLY_SKIPPED, naming the
 * service); every other change is sent even when others failed. If a batch
 * cannot be sent at all, its changes fail with that error and the later
 * phases are skipped.
 */
export async function applyPlan(plan: Plan, client: IpvsClient, host?: HostClient): Promise<ApplyResult> {
  const results: (ChangeResult | undefined)[] = plan.map(() => undefined);
  const phases: number[][] = [[], [], [], [], []];
  plan.forEach((c, i) => phases[phaseOf(c)]!.push(i));

  const failedAdds = new Map<string, LvsdError>();
  let broken: LvsdError | undefined;

  for (const phase of phases) {
    const send: number[] = [];
    for (const i of phase) {
      const c = plan[i]!;
      const cause = broken ?? (c.kind === 'realserver' && c.service !== undefined ? failedAdds.get(c.service) : undefined);
      if (cause) results[i] = { change: c, status: 'skipped', error: skipError(c, cause, broken !== undefined) };
      else if (c.problem) results[i] = { change: c, status: 'failed', error: new LvsdError('HOST_UNSUPPORTED', c.problem) };
      else send.push(i);
    }
    if (send.length === 0) continue;

    let outcomes: OpResult[];
    try {
      outcomes = await sendPhase(send.map((i) => plan[i]!), client, host);
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
      if (c.kind === 'service' && c.action === 'add' && c.service !== undefined) failedAdds.set(c.service, r.error);
    });
  }

  const done = results as ChangeResult[];
  const count = (s: ChangeResult['status']) => done.filter((r) => r.status === s).length;
  const applied = count('ok');
  return { ok: applied === done.length, results: done, applied, failed: count('failed'), skipped: count('skipped') };
}

/** One phase's operations go to the IPVS client or to the host client: never mixed (see phaseOf). */
async function sendPhase(changes: Change[], client: IpvsClient, host: HostClient | undefined): Promise<OpResult[]> {
  if (!isHost(changes[0]!)) return client.execute(changes.map((c) => c.op as IpvsOp));
  if (!host) throw new LvsdError('HOST_UNSUPPORTED', 'host changes need a host client');
  return host.execute(changes.map((c) => c.op as HostOp));
}

function skipError(c: Change, cause: LvsdError, batchBroken: boolean): LvsdError {
  const message = batchBroken
    ? `not sent: an earlier batch could not be sent (${cause.message})`
    : `not sent: service ${c.service ?? '?'} could not be added (${cause.code}: ${cause.message})`;
  return new LvsdError('APPLY_SKIPPED', message, {
    cause,
    details: { service: c.service, ...(c.realserver !== undefined ? { realserver: c.realserver } : {}), causeCode: cause.code },
  });
}
