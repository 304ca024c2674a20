/** `lvsd validate`: check the config; needs neither root nor IPVS. */
import { type Command, CONFIG_OPTION, loadOrReport } from '../command.js';

export const validateCommand: Command = {
  options: { ...CONFIG_OPTION, verbose: { type: 'boolean', short: 'v' } },
  async run(values) {
    const loaded = await loadOrReport(values);
    if (!loaded) return 1;
    if (values['verbose']) {
      const { state, files } = loaded;
      const services = state.services;
      const realservers = services?.reduce((n, s) => n + s.realservers.length, 0) ?? 0;
      process.stdout.write(`${files.join(', ')}: valid\n`);
      process.stdout.write(
        services === undefined
          ? 'IPVS table: not managed (no services section)\n'
          : `IPVS table: ${services.length} service${services.length === 1 ? '' : 's'}, ${realservers} real server${realservers === 1 ? '' : 's'}\n`,
      );
      if (state.ignore.length)
        process.stdout.write(`ignored: ${state.ignore.length} rule${state.ignore.length === 1 ? '' : 's'}\n`);
      if (state.timeouts && Object.keys(state.timeouts).length)
        process.stdout.write(`timeouts: ${JSON.stringify(state.timeouts)}\n`);
    }
    return 0;
  },
};
