/**
 * The checks a schema cannot express, over all files of a config at once
 * (duplicates and defaults cross files): the config is resolved once
 * (resolve.ts), then every rule below runs over it. Each rule is a small
 * named function in rules/, with its own error code, pointing at the
 * offending key or value. Runs on data the schema may have rejected: values
 * of the wrong type are skipped, never reported twice. Pure.
 */
import type { LvsdError } from '../errors.js';
import type { ParsedFile } from './parse.js';
import { resolveConfig } from './resolve.js';
import { checkBlocksFit, checkTextIsSendable, expectRangesOrdered, mergedChecksComplete } from './rules/check.js';
import type { Config, ConfigRule, RealServerRule, Service, ServiceRule } from './rules/context.js';
import { Report } from './rules/context.js';
import { serviceDurationsInRange, topLevelDurationsInRange } from './rules/durations.js';
import { announceFitsDirector, announceKeepsSloppy, schedulerFitsEcmp } from './rules/announce.js';
import { bindVipsNeedServices, realserverVips, sysctlKeysAreNetwork, vrrpOwnsVips } from './rules/host.js';
import { syncNeedsOneFamilyPerService, syncSettings } from './rules/sync.js';
import { ignoreHidesNoService, ignoreVipIsPrefix } from './rules/ignore.js';
import {
  realServerAddress,
  realServerFamily,
  realServerPortFitsForward,
  realServersUnique,
  thresholdsOrdered,
  tunnelSettings,
} from './rules/realserver.js';
import { configDeclaresSomething, sectionInOneFile } from './rules/sections.js';
import {
  flagsFitScheduler,
  fwmarkIdentity,
  netmaskFitsFamily,
  onePacketIsUdp,
  peNeedsPersistence,
  servicesUnique,
  vipIsUsable,
  vipOrFwmark,
  vipPort,
} from './rules/service.js';
import { sorryServerAddress, sorryServerIsNoRealServer } from './rules/sorry-server.js';

/** Rules over the whole file set. */
export const CONFIG_RULES: readonly ConfigRule[] = [
  sectionInOneFile,
  configDeclaresSomething,
  topLevelDurationsInRange,
  ignoreVipIsPrefix,
  servicesUnique,
  ignoreHidesNoService,
  bindVipsNeedServices,
  vrrpOwnsVips,
  realserverVips,
  sysctlKeysAreNetwork,
  syncSettings,
  syncNeedsOneFamilyPerService,
  announceFitsDirector,
  announceKeepsSloppy,
];

/** Rules over each service. */
const SERVICE_RULES: readonly ServiceRule[] = [
  vipOrFwmark,
  fwmarkIdentity,
  vipIsUsable,
  vipPort,
  flagsFitScheduler,
  serviceDurationsInRange,
  netmaskFitsFamily,
  peNeedsPersistence,
  onePacketIsUdp,
  realServersUnique,
  checkBlocksFit,
  checkTextIsSendable,
  expectRangesOrdered,
  mergedChecksComplete,
  sorryServerAddress,
  sorryServerIsNoRealServer,
  schedulerFitsEcmp,
];

/** Rules over each real server of each service. */
const REALSERVER_RULES: readonly RealServerRule[] = [
  realServerAddress,
  realServerFamily,
  realServerPortFitsForward,
  thresholdsOrdered,
  tunnelSettings,
];

/** Every problem of the file set the schema cannot see; empty when there is none. */
export function validateConfig(files: readonly ParsedFile[]): LvsdError[] {
  return checkConfig(files).errors;
}

/** The errors and the warnings (allowed, likely wrong) of the file set. */
export function checkConfig(files: readonly ParsedFile[]): { errors: LvsdError[]; warnings: LvsdError[] } {
  const config = resolveConfig(files);
  const report = new Report();
  for (const rule of CONFIG_RULES) rule(config, report);
  serviceRules(config.services, config, report);
  return { errors: report.errors, warnings: report.warnings };
}

/**
 * The rules over each service and each of its real servers, for `services`
 * only (the daemon's incremental loader checks the services that changed;
 * `config` gives the defaults).
 */
export function validateServices(
  services: readonly Service[],
  config: Config,
): { errors: LvsdError[]; warnings: LvsdError[] } {
  const report = new Report();
  serviceRules(services, config, report);
  return { errors: report.errors, warnings: report.warnings };
}

function serviceRules(services: readonly Service[], config: Config, report: Report): void {
  for (const s of services) {
    for (const rule of SERVICE_RULES) rule(s, report, config);
    for (const rs of s.realservers) for (const rule of REALSERVER_RULES) rule(rs, s, report);
  }
}
