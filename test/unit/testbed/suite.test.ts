// The kernel suite's split and its time-out report (test/kernel/suite.mjs),
// on the host: no kernel needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { explainTimeout, kernelTestFiles, partition, timeLimitMs } from '../../kernel/suite.mjs';

describe('partition', () => {
  test('deals the longest files first, each to the least loaded kernel', () => {
    const t = { a: 100, b: 60, c: 50, d: 10 };
    const bins = partition(['a', 'b', 'c', 'd'], t, 2);
    expect(bins.map((b) => b.files)).toEqual([
      ['a', 'd'],
      ['b', 'c'],
    ]);
    expect(bins.map((b) => b.seconds)).toEqual([110, 110]);
  });

  test('a file without a recorded time counts as 60 s; no empty kernels', () => {
    expect(partition(['new'], {}, 2)).toEqual([{ files: ['new'], seconds: 60 }]);
  });

  test('every kernel test file is dealt exactly once', () => {
    const files = kernelTestFiles();
    expect(files.length).toBeGreaterThan(5);
    const dealt = partition(files, {}, 2).flatMap((b) => b.files);
    expect(dealt.sort()).toEqual([...files].sort());
  });
});

test('time limit: three times the expected duration plus slack, never under 10 minutes', () => {
  expect(timeLimitMs(10)).toBe(600_000);
  expect(timeLimitMs(400)).toBe((1200 + 180) * 1000);
});

test('a kernel out of time names the file it was running and those not started', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-suite-test-'));
  const file = path.join(dir, 'k1.jsonl');
  const at = Date.now() - 5000;
  fs.writeFileSync(
    file,
    [
      { ev: 'start', file: 'a.test.ts', at },
      { ev: 'end', file: 'a.test.ts', state: 'passed', ms: 10, at },
      { ev: 'start', file: 'b.test.ts', at },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n{"ev":"sta',
  );
  const text = explainTimeout(['a.test.ts', 'b.test.ts', 'c.test.ts'], file);
  expect(text).toMatch(/running: b\.test\.ts \(for \d+ s\)/);
  expect(text).toContain('not started: c.test.ts');
  fs.rmSync(dir, { recursive: true });
});
