/** Shared helpers for the config tests. */
import { expect } from 'vitest';
import { loadConfigTexts } from '../../../src/config/load.js';
import type { LvsdError } from '../../../src/errors.js';
import type { DesiredState } from '../../../src/model/types.js';

/** Lines to a text: line N of the text is argument N, so positions in tests are easy to read. */
export function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

/** Loads texts as files a.yaml, b.yaml, ... and returns the errors (none when it loads). */
export function errorsOf(...texts: string[]): LvsdError[] {
  const r = loadConfigTexts(texts.map((text, i) => ({ file: `${String.fromCharCode(97 + i)}.yaml`, text })));
  return r.ok ? [] : r.errors;
}

/** Loads texts as files a.yaml, b.yaml, ... and returns the state; fails the test with the errors otherwise. */
export function stateOf(...texts: string[]): DesiredState {
  const r = loadConfigTexts(texts.map((text, i) => ({ file: `${String.fromCharCode(97 + i)}.yaml`, text })));
  if (!r.ok) expect.fail(r.errors.map(String).join('\n'));
  return r.state;
}

/** The one error of a config, asserting there is exactly one. */
export function oneError(...texts: string[]): LvsdError {
  const errors = errorsOf(...texts);
  expect(errors.map(String)).toHaveLength(1);
  return errors[0]!;
}

/** A service with the given lines under `services:`, in a file that starts with version 1. */
export function withServices(...serviceLines: string[]): string {
  return lines('version: 1', 'services:', ...serviceLines);
}

/** Line and column (from 1) of the nth occurrence of `needle` in `text`. */
export function posOf(text: string, needle: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" occurs fewer than ${nth} times`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}
