#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=4
/**
 * The `lvsd` command: parses the command line, runs one command, and turns
 * errors into one clear line on stderr and an exit code. Data goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isLvsdError, LvsdError } from '../errors.js';
import type { Command } from './command.js';

const USAGE = `Usage: lvsd <command> [options]

Make the Linux IPVS (LVS) table match a declarative YAML file, with the
smallest set of in-place kernel changes. Never a flush.

Commands:
  validate [-c PATH] [-v]            check the config; no root, no kernel needed
  plan     [-c PATH] [--json] [--reorder]
                                     show what apply would change, and order drift
                                     (exit 0: no changes, 2: changes pending, 1: error)
  apply    [-c PATH] [--json] [--reorder]
                                     make the live table match the config; --reorder
                                     also re-adds the real servers of mh/sh/dh services
                                     whose kernel order is not canonical
  show     [--format yaml|json|ipvsadm]
                                     print the live table
  import   [--from-ipvsadm FILE|-] [--allow-empty]
                                     print a config for the live table, or for
                                     the text of 'ipvsadm -Sn'; exit 1 when there is
                                     no table (unless --allow-empty) or the config
                                     would not pass validate
  import   --from-keepalived FILE [--config-id ID] [--vrrp-config OUT]
           | --from-ldirectord FILE
                                     print a config for a keepalived.conf or an
                                     ldirectord.cf, checks included; what is not
                                     converted is reported on stderr at FILE:LINE
                                     (exit 0: all converted, 3: printed with
                                     omissions, 1: nothing printed); --vrrp-config
                                     writes the keepalived.conf without virtual
                                     servers that keeps VRRP (a new file only)
  run      [-c PATH] [--resync-interval DURATION] [--listen ADDR:PORT]
           [--log-level LEVEL] [--log-format json|text]
           [--peer URL]... [--peer-interval DURATION]
                                     keep the table equal to the config (the daemon;
                                     resync default 30s, 0 disables; status endpoint
                                     off unless --listen, e.g. 127.0.0.1:9588; it
                                     serves /healthz /metrics /v1/table; each --peer
                                     is compared every --peer-interval, default 30s,
                                     into lvsd_peer_* metrics)
  peers    [--from URL] [--timeout DURATION] [--json] URL...
                                     compare this director's table (kernel; or the
                                     table at --from) with other directors' (their
                                     'run --listen' address) and print every difference
                                     that moves a flow (exit 0: agree, 2: differ,
                                     1: error, e.g. a peer that does not answer)

Options:
  -c, --config PATH   a config file, or a directory holding lvsd.yaml and
                      conf.d/*.yaml (default: /etc/lvsd)
  -h, --help          this help
  --version           lvsd's version

Docs: README.md and docs/config.md`;

// Loaded on demand: `validate` should not pay for netlink, pino, chokidar and prom-client.
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  apply: async () => (await import('./commands/apply.js')).applyCommand,
  show: async () => (await import('./commands/show.js')).showCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  peers: async () => (await import('./commands/peers.js')).peersCommand,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`lvsd ${version()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`lvsd: unknown command '${name}'\n\n${USAGE}\n`);
    return 1;
  }
  const cmd = await load();
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: cmd.options,
        allowPositionals: cmd.positionals === true,
        strict: true,
      });
    } catch (e) {
      throw new LvsdError(
        'CLI_USAGE',
        `${name}: ${(e as Error).message.replace(/\. To specify.*$/s, '')} (see: lvsd --help)`,
        { cause: e },
      );
    }
    if (parsed.values['help']) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    return await cmd.run(parsed.values, parsed.positionals);
  } catch (e) {
    if (isLvsdError(e)) {
      process.stderr.write(`lvsd: ${e.toString()}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`lvsd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
