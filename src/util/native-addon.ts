// Loading the N-API addons that `npm ci` builds into native/build/Release (native/build.sh).
// Every addon is optional: a caller gets the binding, or the reason it is unavailable, and
// falls back to its pure TypeScript path.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where native/build.sh puts the addon `name` (its target_name in native/binding.gyp). */
export function nativeAddonPath(name: string): string {
  return fileURLToPath(new URL(`../../native/build/Release/${name}.node`, import.meta.url));
}

/** Load the addon `name`; never throws. */
export function requireNativeAddon<T>(name: string): { binding: T } | { reason: string } {
  const path = nativeAddonPath(name);
  try {
    return { binding: createRequire(import.meta.url)(path) as T };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { reason: code === 'MODULE_NOT_FOUND' ? `addon not built (${path})` : `addon failed to load: ${(e as Error).message}` };
  }
}
