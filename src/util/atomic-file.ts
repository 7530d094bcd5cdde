// Crash-safe file writes: write a temporary file beside the target, fsync it, then rename it
// over the target, so a crash or kill leaves either the old or the new content, never a mix.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  /** File mode for a newly written file; secrets use 0o600. */
  mode?: number;
}

export function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  syncDirectory(dirname(path));
}

/** Make the rename itself durable (best effort: not every platform can fsync a directory). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* not supported here */ }
}

/** Owner-only write for identity.secret, moon JSON with signing secrets, tokens. */
export function writeSecretFileAtomic(path: string, data: Uint8Array | string): void {
  writeFileAtomic(path, data, { mode: 0o600 });
}
