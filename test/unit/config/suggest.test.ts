import { describe, expect, test } from 'vitest';
import { closest, didYouMean, editDistance } from '../../../src/config/suggest.js';

const SERVICE_KEYS = [
  'name',
  'vip',
  'port',
  'protocol',
  'fwmark',
  'family',
  'scheduler',
  'flags',
  'persistence',
  'one_packet',
  'pe',
  'realservers',
];

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['weigth', 'weight', 1],
    ['ca', 'abc', 3],
    ['scheduler', 'schedular', 1],
  ])('%s → %s is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  test.each([
    ['schedular', 'scheduler'],
    ['realserver', 'realservers'],
    ['real_servers', 'realservers'],
    ['Port', 'port'],
    ['one-packet', 'one_packet'],
    ['persistance', 'persistence'],
    ['vipp', 'vip'],
    ['protcol', 'protocol'],
  ])('%s → %s', (word, expected) => {
    expect(closest(word, SERVICE_KEYS)).toBe(expected);
  });

  test.each([['address'], ['timeout'], ['x'], ['completely_unrelated']])('%s has no close key', (word) => {
    expect(closest(word, SERVICE_KEYS)).toBeUndefined();
  });

  test('didYouMean phrases the suggestion, or says nothing', () => {
    expect(didYouMean('schedular', SERVICE_KEYS)).toBe(" (did you mean 'scheduler'?)");
    expect(didYouMean('zzz', SERVICE_KEYS)).toBe('');
  });
});
