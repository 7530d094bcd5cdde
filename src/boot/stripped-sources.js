// Serves our TypeScript modules as JavaScript stripped ahead of time, so that no thread of a
// running ztroot loads Node's own type stripper. That stripper is a WebAssembly module that
// every V8 isolate instantiates for itself, about 13.5 MiB resident per thread for the life of
// the process; a root with two packet threads and a validation thread paid it four times.
//
// Plain JavaScript on purpose: it must run before any TypeScript is loaded. Importing it
// registers the hook in the importing thread (bin/ztroot.js does; worker threads start through
// src/boot/worker-boot.js, which does). The stripped copies live in a cache keyed by the SHA-256
// of each source file (src/boot/stripped-cache.js; src/boot/build-stripped.js writes it), so an
// edited file never meets a stale copy: a file without a current copy is handed to Node's
// stripper as before, and the main thread rebuilds the cache once first.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { strippedPath } from './stripped-cache.js';

const BUILDER = fileURLToPath(new URL('./build-stripped.js', import.meta.url));
const HOOKED = Symbol.for('ztroot.strippedSources');

let rebuilt = !isMainThread;

function cachedCopy(source) {
  const copy = strippedPath(source);
  if (existsSync(copy)) return readFileSync(copy);
  if (rebuilt) return undefined;
  rebuilt = true;
  try {
    execFileSync(process.execPath, ['--no-warnings', BUILDER], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    return undefined; // a read-only checkout, say: Node strips as usual
  }
  return existsSync(copy) ? readFileSync(copy) : undefined;
}

if (!globalThis[HOOKED] && process.env.ZTROOT_STRIPPED_SOURCES !== 'off') {
  globalThis[HOOKED] = true;
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:') && url.endsWith('.ts')) {
        const copy = cachedCopy(readFileSync(fileURLToPath(url)));
        if (copy) return { format: 'module', source: copy, shortCircuit: true };
      }
      return nextLoad(url, context);
    },
  });
}
