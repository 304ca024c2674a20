// A vitest reporter for the kernel suite: appends one JSON line per test file
// started and ended to $LVSD_PROGRESS_FILE (a file on the host, which the
// guest reaches through hostfs). When a kernel runs out of time, the harness
// reads it to say which test file was running; at the end it gives each
// file's duration (test/kernel/timings.json, used to split the suite).

import fs from 'node:fs';
import path from 'node:path';

export default class ProgressReporter {
  constructor() {
    this.file = process.env.LVSD_PROGRESS_FILE;
    /** @type {Map<string, number>} */
    this.started = new Map();
  }

  /** @param {Record<string, unknown>} record */
  write(record) {
    if (this.file) fs.appendFileSync(this.file, `${JSON.stringify({ ...record, at: Date.now() })}\n`);
  }

  /** @param {{ moduleId: string }} m */
  onTestModuleStart(m) {
    this.started.set(m.moduleId, Date.now());
    this.write({ ev: 'start', file: path.relative(process.cwd(), m.moduleId) });
  }

  /** @param {{ moduleId: string, state(): string }} m */
  onTestModuleEnd(m) {
    const t0 = this.started.get(m.moduleId) ?? Date.now();
    this.write({ ev: 'end', file: path.relative(process.cwd(), m.moduleId), state: m.state(), ms: Date.now() - t0 });
  }
}
