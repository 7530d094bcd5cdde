// Skipped groups say why, once per run: a test file asks `skipGroup(group, reason)` where it
// would write `describe.skipIf(...)`, and test/support/skip-summary.ts (the globalSetup) prints
// one "skipped: <group> — <reason>" line per group after the run.

import { appendFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { inject } from 'vitest';
import { netnsUnavailableReason } from '../../tools/lab/netns.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file skip-summary.ts collects the skip lines in. */
    skipLog: string;
  }
}

/** True (skip) when there is a reason, which is then announced; false (run) when it is undefined. */
export function skipGroup(group: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  const line = `skipped: ${group} — ${reason}\n`;
  const log = inject('skipLog');
  if (log) appendFileSync(log, line);
  else process.stderr.write(line); // run without the globalSetup
  return true;
}

/** Why `command` cannot be used here (it is not on PATH), or undefined when it can. */
export function missingCommand(command: string, debianPackage: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  return found ? undefined : `${command} not installed (Debian package ${debianPackage})`;
}

/** Every end-to-end test in network namespaces (test/e2e/) skips as one group, on one line. */
export function skipWithoutNetns(): boolean {
  return skipGroup('network-namespace end-to-end tests', netnsUnavailableReason());
}
