// A loader answers with config errors only: an exception no check foresaw
// (here: normalize throwing) comes back as CONFIG_INTERNAL with its cause,
// and a stack overflow as CONFIG_TOO_DEEP, never as a thrown error.
import { describe, expect, test, vi } from 'vitest';

const failure = vi.hoisted(() => ({ error: new Error('boom') as Error }));
vi.mock('../../../src/config/normalize.js', () => ({
  normalize: () => {
    throw failure.error;
  },
}));

const { loadConfigTexts } = await import('../../../src/config/load.js');
const TEXT = 'version: 1\nservices: []\n';

describe('loadConfigTexts never throws', () => {
  test('an unexpected exception is CONFIG_INTERNAL with the exception as its cause', () => {
    failure.error = new TypeError('x is not a function');
    const r = loadConfigTexts([{ file: 'a.yaml', text: TEXT }]);
    expect(r).toMatchObject({
      ok: false,
      files: ['a.yaml'],
      errors: [{ code: 'CONFIG_INTERNAL', pos: { file: 'a.yaml' } }],
    });
    if (!r.ok) {
      expect(r.errors[0]!.cause).toBe(failure.error);
      expect(r.errors[0]!.message).toContain('TypeError: x is not a function');
    }
  });

  test('a stack overflow is CONFIG_TOO_DEEP', () => {
    failure.error = new RangeError('Maximum call stack size exceeded');
    expect(loadConfigTexts([{ file: 'a.yaml', text: TEXT }])).toMatchObject({
      ok: false,
      errors: [{ code: 'CONFIG_TOO_DEEP' }],
    });
  });
});
