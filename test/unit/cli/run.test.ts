import { describe, expect, test } from 'vitest';
import { MAX_RESYNC_SECONDS, parseResyncInterval } from '../../../src/cli/commands/run.js';

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
