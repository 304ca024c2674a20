/**
 * The kernel's errno, for a given operation, to a typed lvsd error that names
 * the operation and the object. Pure; the adapter calls it once per failure.
 */
import { LvsdError, type ErrorCode } from '../errors.js';
import { realServerKey, serviceKey, syncDaemonKey } from '../model/keys.js';
import type { IpvsOp } from '../model/ops.js';
import { ERRNO as E, errnoName, PERMISSION_DENIED } from '../netlink/errno.js';

/** `add realserver tcp/192.0.2.1:80 -> 192.0.2.10:80` */
export function describeOp(op: IpvsOp): string {
  switch (op.op) {
    case 'add-service':
    case 'edit-service':
    case 'delete-service':
      return `${op.op.replace('-', ' ')} ${serviceKey(op.service)}`;
    case 'add-realserver':
    case 'edit-realserver':
    case 'delete-realserver':
      return `${op.op.replace('-', ' ')} ${serviceKey(op.service)} -> ${realServerKey(op.realserver)}`;
    case 'set-timeouts':
      return 'set timeouts';
    case 'start-sync':
      return `start sync daemon ${syncDaemonKey(op.daemon)}`;
    case 'stop-sync':
      return `stop sync daemon ${syncDaemonKey(op.daemon)}`;
    case 'flush':
      return 'flush';
  }
}

/** What an errno means for this operation, per net/netfilter/ipvs/ip_vs_ctl.c. */
export function kernelError(errno: number, op: IpvsOp): LvsdError {
  const name = errnoName(errno);
  const [code, reason] = explain(errno, op);
  const daemon = op.op === 'start-sync' || op.op === 'stop-sync' ? { daemon: syncDaemonKey(op.daemon) } : {};
  return new LvsdError(code, `${describeOp(op)}: ${reason} (${name})`, {
    details: { errno, errnoName: name, op: op.op, ...daemon },
  });
}

function explain(errno: number, op: IpvsOp): [ErrorCode, string] {
  if (op.op === 'start-sync' || op.op === 'stop-sync') return explainSync(errno, op);
  const isService = op.op === 'add-service' || op.op === 'edit-service';
  switch (errno) {
    case E.EEXIST:
      return ['IPVS_EXISTS', op.op === 'add-service' ? 'the service already exists' : 'the real server already exists'];
    case E.ESRCH:
      return ['IPVS_NOT_FOUND', 'no such service'];
    case E.ENOENT:
      if (isService) {
        const s = op.service;
        const what = s.pe ? `scheduler '${s.scheduler}' or persistence engine '${s.pe}'` : `scheduler '${s.scheduler}'`;
        return [
          'IPVS_INVALID',
          `${what} is not available in this kernel (no module ip_vs_${s.pe ? `${s.scheduler} / ip_vs_pe_${s.pe}` : s.scheduler})`,
        ];
      }
      return ['IPVS_NOT_FOUND', 'no such real server'];
    case E.ERANGE:
      return ['IPVS_INVALID', 'value out of range (weight below 0, or lower threshold above upper threshold)'];
    case E.EINVAL:
      return [
        'IPVS_INVALID',
        'invalid request (address not unicast, loopback down, mixed address families without tunnel forwarding, or a bad attribute)',
      ];
    case E.EPERM:
    case E.EACCES:
      return ['IPVS_PERMISSION', PERMISSION_DENIED];
    case E.EBUSY:
      return ['IPVS_BUSY', 'the kernel is busy'];
    case E.EAFNOSUPPORT:
      return ['IPVS_INVALID', 'address family not supported by this kernel'];
    case E.EOPNOTSUPP:
      return ['IPVS_INVALID', 'not supported by this kernel'];
    default:
      return ['IPVS_KERNEL', 'the kernel rejected the request'];
  }
}

/** What an errno means for a sync daemon, per ip_vs_ctl.c (ip_vs_genl_new_daemon) and ip_vs_sync.c. */
function explainSync(errno: number, op: IpvsOp & { op: 'start-sync' | 'stop-sync' }): [ErrorCode, string] {
  const d = op.daemon;
  switch (errno) {
    case E.EEXIST:
      return ['IPVS_EXISTS', `a ${d.role} sync daemon already runs (the kernel runs one per role)`];
    case E.ESRCH:
      return ['IPVS_NOT_FOUND', `no ${d.role} sync daemon runs`];
    case E.ENODEV:
      return ['IPVS_INVALID', `no interface ${d.interface} in this network namespace`];
    case E.EADDRNOTAVAIL:
      return ['IPVS_INVALID', `interface ${d.interface} has no address of the group's family to send from`];
    case E.ENETUNREACH:
      return ['IPVS_INVALID', `interface ${d.interface} is down, or has no route to group ${d.group}`];
    case E.EINVAL:
      return [
        'IPVS_INVALID',
        `invalid request (a service has real servers of another address family, which the sync protocol cannot carry, or group ${d.group} is not multicast)`,
      ];
    case E.EPERM:
    case E.EACCES:
      return ['IPVS_PERMISSION', PERMISSION_DENIED];
    default:
      return ['IPVS_KERNEL', 'the kernel rejected the request'];
  }
}
