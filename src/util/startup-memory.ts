// Once a daemon has started, hand back the memory only start-up needed. Loading and compiling
// the modules grows V8's young generation to several MiB of semi-spaces and touches much of the
// node binary; neither is used again by an idle node, and neither is handed back by itself (V8
// shrinks the young generation only in a memory-reducing collection; clean file pages leave the
// resident set only under memory pressure). Both come back on demand: V8 grows the young
// generation again with the allocation rate, and a binary page touched again is a minor fault.
// ZTROOT_RELEASE_STARTUP_MEMORY=off keeps everything as it is.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './log.ts';
import { requireNativeAddon } from './native-addon.ts';

interface FilePagesBinding {
  releaseFilePages(): number;
}

export interface StartupRelease {
  /** V8 heap bytes held before and after the memory-reducing collection. */
  heapBefore: number;
  heapAfter: number;
  /** Resident bytes of read-only file mappings handed back (0 without the addon). */
  filePagesReleased: number;
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** One memory-reducing collection: the only kind that shrinks the young generation. */
export function reduceHeap(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Release start-up memory now; undefined when ZTROOT_RELEASE_STARTUP_MEMORY=off. */
export function releaseStartupMemory(log: Logger): StartupRelease | undefined {
  if (process.env.ZTROOT_RELEASE_STARTUP_MEMORY === 'off') return undefined;
  const heapBefore = process.memoryUsage().heapTotal;
  reduceHeap();
  const heapAfter = process.memoryUsage().heapTotal;
  const addon = requireNativeAddon<FilePagesBinding>('file_pages');
  let filePagesReleased = 0;
  if ('binding' in addon) {
    try {
      filePagesReleased = addon.binding.releaseFilePages();
    } catch (e) {
      log.debug('start-up file pages kept', { error: (e as Error).message });
    }
  }
  const release = { heapBefore, heapAfter, filePagesReleased };
  log.info('start-up memory released', { ...release });
  return release;
}
