import { describe, expect, test } from 'vitest';
import { MAX_RESYNC_SECONDS, parsePeers, parseResyncInterval } from '../../../src/cli/commands/run.js';

describe('lvsd run --resync-interval', () => {
  test.each([
    ['0', 0],
    ['30s', 30_000],
    ['300', 300_000],
    ['24d', 24 * 86400_000],
    [String(MAX_RESYNC_SECONDS), MAX_RESYNC_SECONDS * 1000],
  ])('%s -> %s ms', (text, ms) => {
    expect(parseResyncInterval(text)).toBe(ms);
  });

  test.each(['25d', '2147484', '9999999999', '1y', '-1', '1.5s'])('%s is refused with a usage error', (text) => {
    expect(() => parseResyncInterval(text)).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });

  test("the limit fits Node's timers", () => {
    expect(MAX_RESYNC_SECONDS * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe('lvsd run --peer', () => {
  test('URLs get the table path; the interval defaults to 30s', () => {
    expect(parsePeers({ peer: ['http://192.0.2.2:9588', 'http://192.0.2.3:9588/v1/table'] }, true)).toEqual({
      urls: [new URL('http://192.0.2.2:9588/v1/table'), new URL('http://192.0.2.3:9588/v1/table')],
      intervalMs: 30_000,
    });
    expect(parsePeers({}, false)).toBeUndefined();
  });

  test.each<[string, Record<string, unknown>, boolean]>([
    ['without --listen (the metric would be nowhere)', { peer: ['http://192.0.2.2:9588'] }, false],
    ['--peer-interval without --peer', { 'peer-interval': '10s' }, true],
    ['an interval under 1s', { peer: ['http://192.0.2.2:9588'], 'peer-interval': '0' }, true],
    ['not a URL', { peer: ['192.0.2.2:9588'] }, true],
  ])('%s is a usage error', (_name, values, listening) => {
    expect(() => parsePeers(values as never, listening)).toThrow(expect.objectContaining({ code: 'CLI_USAGE' }));
  });
});
