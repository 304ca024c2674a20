/**
 * Rules on a service's sorry_server: an address IPVS can send to, of the
 * service's family (unless the default forward is tunnel, which the sorry
 * server takes), and not one of the service's real servers, compared as the
 * kernel would (canonical address and effective port). Pure.
 */
import { realServerKey } from '../../model/keys.js';
import { SHORTHAND_HELP } from '../values.js';
import type { Config, Report, Service } from './context.js';
import { familyName, servicePlace } from './context.js';
import { unusableMessage } from './usable.js';

/** CONFIG_ADDRESS / CONFIG_FAMILY_MISMATCH: a sorry server that parses, can be reached, and fits the service. */
export function sorryServerAddress(s: Service, report: Report, config: Config): void {
  const sorry = s.sorry;
  if (!sorry) return;
  const place = servicePlace(s, ['sorry_server']);
  if (!sorry.parsed.ok) {
    report.add('CONFIG_ADDRESS', place, `sorry_server: ${JSON.stringify(sorry.text)} is not ${SHORTHAND_HELP}`);
    return;
  }
  const { address, family } = sorry.parsed;
  const unusable = unusableMessage(address);
  if (unusable) report.add('CONFIG_ADDRESS', place, `sorry_server ${address} ${unusable}`);
  if (s.family && family !== s.family && config.defaults.forward !== 'tunnel') {
    report.add(
      'CONFIG_FAMILY_MISMATCH',
      place,
      `sorry_server ${address} is ${familyName(family)} but the service is ${familyName(s.family)}: ` +
        `only forward: tunnel can mix address families (the sorry server takes the default forward, ${config.defaults.forward})`,
    );
  }
}

/** CONFIG_CHECK: the sorry server is a server of its own, never one of the real servers. */
export function sorryServerIsNoRealServer(s: Service, report: Report): void {
  const sorry = s.sorry;
  if (!sorry?.parsed.ok || sorry.effectivePort === undefined) return;
  const key = realServerKey({ family: sorry.parsed.family, address: sorry.parsed.address, port: sorry.effectivePort });
  const same = s.realservers.some(
    (rs) =>
      rs.address !== undefined &&
      rs.effectivePort !== undefined &&
      realServerKey({ family: rs.family!, address: rs.address, port: rs.effectivePort }) === key,
  );
  if (!same) return;
  report.add(
    'CONFIG_CHECK',
    servicePlace(s, ['sorry_server']),
    `sorry_server ${sorry.text} is also one of the service's real servers; it must be a server of its own`,
  );
}
