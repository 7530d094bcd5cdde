// A home that is, or becomes, read-only. The tests run as root, which writes through file modes,
// so the home is a small ext4 image mounted in a private mount namespace (`unshare --mount`):
// mounted `ro` from the start, or mounted read-write and then made read-only under the running
// process with `mount -o remount,abort` (ext4 aborts its journal and refuses every later write
// with EROFS, even through files already open — what a disk that fails under a running node does;
// a plain `remount,ro` is refused while SQLite holds its files open for writing).
//
// - A root whose home goes read-only refuses new identities (counted as internal-error, never as
//   invalid), keeps answering known peers, and does not crash.
// - A root started on a read-only home exits 1 with one line naming the home: it keeps its
//   identity cache there, and running without it would re-validate every peer after each restart.
// - A leaf on a read-only home (or one that becomes read-only) runs: joins take effect, the log
//   says once that they are not saved; without an identity.secret there it exits 1 with the reason.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { loadOrCreateValidIdentities } from '../../tools/loadgen/key-material.ts';
import { endpoint, fixtureIdentities, KeyedPeer } from '../../tools/fuzz/peers.ts';
import { counter, RootTarget, ZTROOT_BIN } from '../../tools/fuzz/target.ts';

const ids = fixtureIdentities();
const rootId = ids[7];
const UNSHARE = ['unshare', '--mount', '--propagation', 'private'];
const dirs: string[] = [];
const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const unavailable = process.getuid?.() !== 0 ? 'needs root (mount namespaces, loop mounts)'
  : ['unshare', 'nsenter', 'mkfs.ext4'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);

/**
 * An ext4 image holding `files` (path → content; secrets 0600) and an empty directory to mount it
 * on: the home, as the process inside the mount namespace sees it.
 */
function homeImage(files: Record<string, string | Uint8Array>): { image: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-abro-'));
  dirs.push(dir);
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'moons.d'), { recursive: true });
  mkdirSync(join(stage, 'networks.d'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(stage, path), content, { mode: path.endsWith('.secret') ? 0o600 : 0o644 });
  const image = join(dir, 'home.img');
  execFileSync('truncate', ['-s', '16M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', stage, image]);
  const home = join(dir, 'home');
  mkdirSync(home);
  return { image, home };
}

/** Shell commands that mount the image on the home, read-only or read-write (errors=remount-ro). */
const mountHome = (image: string, home: string, mode: 'ro' | 'rw'): string =>
  `mount -o loop,${mode === 'ro' ? 'ro' : 'rw,errors=remount-ro'} ${image} ${home}`;

/** From outside: make the home read-only under the running process (every later write: EROFS). */
function abortHome(pid: number, home: string): void {
  execFileSync('nsenter', ['--target', String(pid), '--mount', 'mount', '-o', 'remount,abort', home]);
}

describe.skipIf(unavailable)('a root and a read-only home', () => {
  it('home becomes read-only while running: new identities refused (never as invalid), known peers served, no crash', async () => {
    const pool = await loadOrCreateValidIdentities(2, join(tmpdir(), 'ztroot-fuzz-cache'));
    const stage = mkdtempSync(join(tmpdir(), 'ztroot-abro-db-'));
    dirs.push(stage);
    const db = new IdentityStore(join(stage, 'identities.db'));
    db.put(ids[1].publicOnly()); // a known peer, in the cache before the home goes read-only
    db.close();
    const { image, home } = homeImage({ 'identity.secret': rootId.toString(true), 'identities.db': readFileSync(join(stage, 'identities.db')) });
    const t = await RootTarget.spawn({ home, wrapper: UNSHARE, shellPrefix: mountHome(image, home, 'rw'), args: ['--validation-threads', '1'] });
    cleanups.push(() => t.dispose());
    const via = endpoint(t.udp.host, t.udp.port);
    const known = await KeyedPeer.open(ids[1], rootId, via);
    cleanups.push(() => known.close());
    await known.register(20_000);

    abortHome(t.pid, home);
    const admitted: boolean[] = [];
    for (const [i, id] of pool.entries()) {
      const p = await KeyedPeer.open(id, rootId, via, `127.92.${i + 1}.1`);
      admitted.push(await p.register(2000).then(() => true, () => false));
      await p.close();
    }
    expect(admitted).toEqual(pool.map(() => false));
    expect(await known.hello(5000)).toBe(true);
    expect(await known.whois(ids[1].address, 5000)).toBe(true);
    expect(t.running).toBe(true);

    const m = await t.metrics();
    expect(counter(m, 'ztroot_drops_total', { reason: 'internal-error' })).toBeGreaterThan(0);
    expect(counter(m, 'ztroot_drops_total', { reason: 'invalid-identity' })).toBe(0);
    expect(counter(m, 'ztroot_identity_validations_total', { result: 'invalid' })).toBe(0);
    const problems = t.logProblems().map((l) => (JSON.parse(l) as { msg: string }).msg);
    // (the main thread's packet path logs the refusal; a packet worker's adds the main thread's failed write)
    expect(problems).toContain('identity admission failed');
    for (const msg of problems) expect(['identity cache write failed', 'identity admission failed']).toContain(msg);
    // SQLite reports the refused write of its WAL as an I/O error
    expect(t.logProblems().every((l) => /disk I\/O error|could not be written/.test(l))).toBe(true);
  }, 120_000);

  it('started on a read-only home: exit status 1 and one line naming the home', () => {
    const { image, home } = homeImage({ 'identity.secret': rootId.toString(true) });
    const r = spawnSync(UNSHARE[0], [...UNSHARE.slice(1), 'bash', '-c', `${mountHome(image, home, 'ro')}; exec "$0" "$@"`,
      process.execPath, ZTROOT_BIN, 'root', '--home', home, '--bind', '127.0.0.1', '--port', '0', '--http', '', '--validation-threads', '1'],
    { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`ztroot root: home ${home} is on a read-only file system: the root keeps its identity cache (identities.db) there; give it a writable home`]);
  }, 60_000);
});

/** `ztroot leaf` in a private mount namespace, its home mounted from an image. */
class LeafProcess {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;
  constructor(image: string, home: string, mode: 'ro' | 'rw') {
    this.child = spawn(UNSHARE[0], [...UNSHARE.slice(1), 'bash', '-c', `${mountHome(image, home, mode)}; exec "$0" "$@"`,
      process.execPath, ZTROOT_BIN, 'leaf', '--home', home, '--bind', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (t: string) => { this.out += t; });
    this.child.stderr!.setEncoding('utf8').on('data', (t: string) => { this.err += t; });
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
    cleanups.push(() => { this.child.kill('SIGKILL'); });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logs(): { level: string; msg: string; [k: string]: unknown }[] {
    return this.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  }

  async started(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!/is running/.test(this.out)) {
      if (!this.running || Date.now() > deadline) throw new Error(`leaf did not start:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The local API, with the token the image holds. */
  async api(method: string, path: string): Promise<{ status: number; body: any }> {
    const port = String(this.logs().find((l) => l.msg === 'http listening')!.address).split(':').pop();
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'X-ZT1-Auth': LEAF_TOKEN }, body: method === 'POST' ? '{}' : undefined });
    return { status: r.status, body: await r.json() };
  }
}

const LEAF_TOKEN = 'ab0leaf0token0000000000';
const NWID = ['8056c2e21c000001', '8056c2e21c000002'];

describe.skipIf(unavailable)('a leaf and a read-only home', () => {
  it('started on a read-only home: runs, says its joins are not saved, and joins take effect', async () => {
    const { image, home } = homeImage({ 'identity.secret': ids[0].toString(true), 'identity.public': ids[0].toString(false), 'authtoken.secret': LEAF_TOKEN });
    const leaf = new LeafProcess(image, home, 'ro');
    await leaf.started();
    expect(leaf.logs().find((l) => l.msg.startsWith('the home cannot be written'))).toMatchObject({ level: 'warn', error: 'EROFS' });
    expect(await leaf.api('POST', `/network/${NWID[0]}`)).toMatchObject({ status: 200, body: { id: NWID[0] } });
    expect((await leaf.api('GET', '/network')).body.map((n: { id: string }) => n.id)).toEqual([NWID[0]]);
    expect(leaf.logs().filter((l) => l.msg === 'not saved in the home: kept in memory only').map((l) => l.what)).toContain('joined network');
    expect(leaf.running).toBe(true);
    expect(leaf.logs().filter((l) => l.level === 'error')).toEqual([]);
  }, 60_000);

  it('home becomes read-only while running: a join takes effect, the log says it is not saved, the leaf keeps running', async () => {
    const { image, home } = homeImage({ 'identity.secret': ids[0].toString(true), 'authtoken.secret': LEAF_TOKEN });
    const leaf = new LeafProcess(image, home, 'rw');
    await leaf.started();
    expect(await leaf.api('POST', `/network/${NWID[0]}`)).toMatchObject({ status: 200 });
    expect(leaf.logs().filter((l) => l.level !== 'info' && l.level !== 'debug').map((l) => l.msg)).not.toContain('not saved in the home: kept in memory only');
    abortHome(leaf.child.pid!, home);
    expect(await leaf.api('POST', `/network/${NWID[1]}`)).toMatchObject({ status: 200, body: { id: NWID[1] } });
    expect(await leaf.api('DELETE', `/network/${NWID[0]}`)).toMatchObject({ status: 200 });
    expect((await leaf.api('GET', '/network')).body.map((n: { id: string }) => n.id)).toEqual([NWID[1]]);
    // said once for the kind, not once per change
    expect(leaf.logs().filter((l) => l.msg === 'not saved in the home: kept in memory only' && l.what === 'joined network')).toHaveLength(1);
    expect(leaf.running).toBe(true);
    expect(leaf.logs().filter((l) => l.level === 'error')).toEqual([]);
  }, 60_000);

  it('a read-only home without identity.secret: exit status 1 with the reason', async () => {
    const { image, home } = homeImage({ 'authtoken.secret': LEAF_TOKEN });
    const leaf = new LeafProcess(image, home, 'ro');
    expect(await leaf.exited).toBe(1);
    expect(leaf.err.trim().split('\n').filter((l) => !l.startsWith('{'))).toEqual([`ztroot leaf: home ${home} cannot be written (EROFS) and holds no identity.secret to run with`]);
  }, 60_000);
});
