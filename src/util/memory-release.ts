// Handing back memory that only a passing phase needed. Start-up (loading and compiling the
// modules) grows V8's young generation to several MiB of semi-spaces and touches much of the
// node binary; so does each burst of identity-validation threads, whose isolates start, work and
// exit. None of it is used again by an idle node, and none of it is handed back by itself: V8
// shrinks the young generation only in a memory-reducing collection, and clean file pages leave
// the resident set only under memory pressure. Both come back on demand: V8 grows the young
// generation again with the allocation rate, and a binary page touched again is a minor fault
// from the page cache. ZTROOT_RELEASE_MEMORY=off keeps everything as it is.

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

function releaseEnabled(): boolean {
  return process.env.ZTROOT_RELEASE_MEMORY !== 'off';
}

/** One memory-reducing collection of this thread's heap: the only kind that shrinks the young generation. */
export function reduceHeap(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * Drop the resident pages of this process's read-only file mappings (native/src/file_pages.c);
 * the bytes released, 0 when turned off or without the addon.
 */
export function releaseFilePages(log: Logger): number {
  if (!releaseEnabled()) return 0;
  const addon = requireNativeAddon<FilePagesBinding>('file_pages');
  if (!('binding' in addon)) return 0;
  try {
    return addon.binding.releaseFilePages();
  } catch (e) {
    log.debug('file pages kept', { error: (e as Error).message });
    return 0;
  }
}

/** Once a role runs: hand back start-up memory; undefined when ZTROOT_RELEASE_MEMORY=off. */
export function releaseStartupMemory(log: Logger): StartupRelease | undefined {
  if (!releaseEnabled()) return undefined;
  const heapBefore = process.memoryUsage().heapTotal;
  reduceHeap();
  const heapAfter = process.memoryUsage().heapTotal;
  const release = { heapBefore, heapAfter, filePagesReleased: releaseFilePages(log) };
  log.info('start-up memory released', { ...release });
  return release;
}
