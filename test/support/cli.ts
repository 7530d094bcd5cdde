// Run the ztroot CLI for tests: in-process (fast, for most cases) or as a real child process.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ZTROOT_BIN = join(REPO, 'bin/ztroot.js');

export function tempDir(prefix = 'ztroot-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunResult { status: number; stdout: string; stderr: string }

/** Spawn `ztroot …` with the same Node that runs the tests (Node 24). */
export function runZtroot(args: string[], cwd: string, input?: string): RunResult {
  const r = spawnSync(process.execPath, [ZTROOT_BIN, ...args], { cwd, encoding: 'utf8', input, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
