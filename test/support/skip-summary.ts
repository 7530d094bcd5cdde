// vitest globalSetup: gives the test files a file to record skipped groups in (skips.ts) and
// prints each recorded line once, sorted, when the run ends.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-skips-'));
  const log = join(dir, 'skipped.txt');
  project.provide('skipLog', log);
  return () => {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch { /* nothing was skipped */ }
    rmSync(dir, { recursive: true, force: true });
    const lines = [...new Set(text.split('\n').filter(Boolean))].sort();
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`);
  };
}
