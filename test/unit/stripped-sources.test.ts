// The stripped-sources hook (src/boot/stripped-sources.js): a process and its worker threads load
// our TypeScript without instantiating Node's own type stripper, and a module the cache has no
// copy of still loads.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const at = (path: string): string => pathToFileURL(join(REPO, path)).href;
const STRIPPER = `process.moduleLoadList.some((m) => m.includes('amaro'))`;

interface Probe { main: boolean; worker: boolean; hex: string; workerHex: string; extra?: number }

function probe(env: NodeJS.ProcessEnv = {}, extraModule?: string): Probe {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-stripped-'));
  writeFileSync(join(dir, 'worker.mjs'), `
    import { parentPort } from 'node:worker_threads';
    const { toHex } = await import(${JSON.stringify(at('src/util/hex.ts'))});
    parentPort.postMessage({ stripper: ${STRIPPER}, hex: toHex(new Uint8Array([1, 254])) });
  `);
  writeFileSync(join(dir, 'main.mjs'), `
    import ${JSON.stringify(at('src/boot/stripped-sources.js'))};
    const { toHex } = await import(${JSON.stringify(at('src/util/hex.ts'))});
    const { newWorker } = await import(${JSON.stringify(at('src/boot/new-worker.ts'))});
    const extra = ${extraModule ? `(await import(${JSON.stringify(pathToFileURL(extraModule).href)})).value` : 'undefined'};
    const main = ${STRIPPER};
    const w = newWorker(new URL('./worker.mjs', import.meta.url));
    w.on('message', (m) => {
      console.log(JSON.stringify({ main, worker: m.stripper, hex: toHex(new Uint8Array([1, 254])), workerHex: m.hex, extra }));
      void w.terminate();
    });
  `);
  const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  expect(r.stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, '')).toBe('');
  return JSON.parse(r.stdout) as Probe;
}

describe('stripped sources', () => {
  it('serves our modules to the main thread and to workers without Node\'s type stripper', () => {
    const p = probe();
    expect(p).toMatchObject({ main: false, worker: false, hex: '01fe', workerHex: '01fe' });
  });

  it('is what keeps the stripper out: turned off, both threads load it', () => {
    const p = probe({ ZTROOT_STRIPPED_SOURCES: 'off' });
    expect(p).toMatchObject({ main: true, worker: true, hex: '01fe', workerHex: '01fe' });
  });

  it('loads a module the cache has no copy of (Node strips that one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztroot-unstripped-'));
    const extra = join(dir, `fresh-${process.pid}-${Date.now()}.ts`);
    writeFileSync(extra, 'const base: number = 40;\nexport const value: number = base + 2;\n');
    const p = probe({}, extra);
    expect(p.extra).toBe(42);
    expect(p.main).toBe(true);
    expect(p.worker).toBe(false);
  });

  it('keeps a copy of every source module, keyed by its content', () => {
    const r = spawnSync(process.execPath, ['--no-warnings', join(REPO, 'src/boot/build-stripped.js')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const cache = join(REPO, 'node_modules/.cache/ztroot-stripped');
    const names = new Set(readdirSync(cache));
    const sources = readdirSync(join(REPO, 'src/root')).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(5);
    for (const f of sources) {
      const source = readFileSync(join(REPO, 'src/root', f));
      expect(names.has(`${createHash('sha256').update(source).digest('hex')}.js`), f).toBe(true);
    }
  });
});
