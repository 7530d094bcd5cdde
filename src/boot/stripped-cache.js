// Where the stripped copies of our TypeScript modules live (see src/boot/stripped-sources.js):
// inside this checkout's node_modules, so `npm ci` starts it afresh and it never leaves the tree.

import { fileURLToPath } from 'node:url';

export const repoDir = fileURLToPath(new URL('../../', import.meta.url));
export const strippedCacheDir = `${repoDir}node_modules/.cache/ztroot-stripped`;

/** The cache file of a source whose SHA-256 is `sha256Hex`. */
export function strippedName(sha256Hex) {
  return `${sha256Hex}.js`;
}

/** The directories whose TypeScript a ztroot process or its tools may load at run time. */
export const SOURCE_DIRS = ['src', 'deploy', 'tools'];
