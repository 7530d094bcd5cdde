// Where the stripped copies of our TypeScript modules live (see src/boot/stripped-sources.js):
// inside this checkout's node_modules, so `npm ci` starts it afresh and it never leaves the tree.
// Each copy is named by the SHA-256 of its source, so an edited source never meets a stale copy.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoDir = fileURLToPath(new URL('../../', import.meta.url));
export const strippedCacheDir = join(repoDir, 'node_modules/.cache/ztroot-stripped');

/** The cache file of the stripped copy of `source` (a module's text, as a string or bytes). */
export function strippedPath(source) {
  return join(strippedCacheDir, `${createHash('sha256').update(source).digest('hex')}.js`);
}

/** The directories whose TypeScript a ztroot process or its tools may load at run time. */
export const SOURCE_DIRS = ['src', 'deploy', 'tools'];
