// Handing back start-up memory (src/util/memory-release.ts), in a child process of its own: the
// young generation shrinks, the resident file pages drop, and the process goes on working —
// compiling new code, hashing, compressing — on the pages it maps back.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativeAddonPath } from '../../src/util/native-addon.ts';
import { existsSync } from 'node:fs';

const CHILD = `
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import { releaseStartupMemory } from './src/util/memory-release.ts';
const status = () => Object.fromEntries(readFileSync('/proc/self/status', 'utf8').split('\\n')
  .filter((l) => /^(RssFile|RssAnon):/.test(l)).map((l) => [l.split(':')[0], Number(l.split(/\\s+/)[1]) * 1024]));
// start-up-like work: plenty of short-lived garbage grows the young generation
let keep = 0;
for (let i = 0; i < 200000; i++) keep += JSON.stringify({ i, s: 'x'.repeat(i % 100) }).length;
const before = status();
const release = releaseStartupMemory({ debug() {}, info() {}, warn() {}, error() {} });
const after = status();
// and it goes on working on the pages it maps back
const digest = createHash('sha256').update('ztroot').digest('hex');
const roundTrip = gunzipSync(gzipSync(Buffer.from('x'.repeat(10000)))).length;
const compiled = new Function('a', 'b', 'return a * b + ' + keep % 7)(6, 7);
console.log(JSON.stringify({ before, after, release: release ?? null, digest, roundTrip, compiled, keep }));
`;

function runChild(env: Record<string, string> = {}): {
  before: Record<string, number>; after: Record<string, number>;
  release: { heapBefore: number; heapAfter: number; filePagesReleased: number } | null;
  digest: string; roundTrip: number; compiled: number; keep: number;
} {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as ReturnType<typeof runChild>;
}

describe('releasing start-up memory', () => {
  it('shrinks the V8 heap and hands back file pages, and the process goes on working', () => {
    const out = runChild();
    expect(out.release).not.toBeNull();
    expect(out.release!.heapAfter).toBeLessThan(out.release!.heapBefore);
    expect(out.digest).toBe('e8794bad3c9d00c8b45d37d2b1313af78112ed75ca16e83d4f32c3aca6decc1f');
    expect(out.roundTrip).toBe(10000);
    expect(out.compiled).toBe(42 + (out.keep % 7));
    if (process.platform === 'linux' && existsSync(nativeAddonPath('file_pages'))) {
      expect(out.release!.filePagesReleased).toBeGreaterThan(4 * 2 ** 20);
      expect(out.after.RssFile).toBeLessThan(out.before.RssFile - 4 * 2 ** 20);
    }
  });

  it('keeps everything with ZTROOT_RELEASE_MEMORY=off', () => {
    const out = runChild({ ZTROOT_RELEASE_MEMORY: 'off' });
    expect(out.release).toBeNull();
    expect(out.after.RssFile).toBeGreaterThanOrEqual(out.before.RssFile - 2 ** 20);
  });
});
