import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  test.each([
    [0, 0],
    [300, 300],
    ['90s', 90],
    ['15m', 900],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m30s', 150],
    ['1d', 86400],
    ['1d2h3m4s', 93784],
    ['0s', 0],
  ])('%j is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each([
    [-1],
    [1.5],
    ['90'],
    ['15 m'],
    ['m'],
    [''],
    ['1m1h'],
    ['1h1h'],
    ['1H'],
    ['1w'],
    [null],
    [true],
    ['-5s'],
    [Number.MAX_VALUE],
  ])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [90, '1m30s'],
    [300, '5m'],
    [900, '15m'],
    [3600, '1h'],
    [5400, '1h30m'],
    [86400, '1d'],
    [2147483, '24d20h31m23s'],
  ])('%d seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  test('rejects what is not a duration', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(0.5)).toThrow(RangeError);
  });

  test('parseDuration reads back what formatDuration writes', () => {
    fc.assert(fc.property(fc.nat(), (n) => parseDuration(formatDuration(n)) === n));
  });
});
