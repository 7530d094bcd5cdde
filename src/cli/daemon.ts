// What every long-running `ztroot` role command shares: its --port and comma-list flags, and
// running until SIGTERM/SIGINT, then stopping once.

import type { Logger } from '../util/log.ts';
import { releaseStartupMemory } from '../util/memory-release.ts';

/** A --port flag (default when absent); undefined when it is not a port number. */
export function portFlag(text: string | undefined, fallback: number): number | undefined {
  const port = text === undefined ? fallback : Number(text);
  return Number.isInteger(port) && port >= 0 && port <= 0xffff ? port : undefined;
}

/** A comma-separated flag as its non-empty, trimmed items. */
export function listFlag(text: string | undefined): string[] {
  return text ? text.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/**
 * A role calls this once it has started: start-up's memory is handed back, and it resolves with
 * exit status 0 after the first SIGTERM or SIGINT has run `stop` to completion.
 */
export function runUntilSignalled(log: Logger, stop: () => Promise<void>): Promise<number> {
  releaseStartupMemory(log);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      void stop().then(() => resolve(0));
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
}
