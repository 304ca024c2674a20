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
