// Faults of the host, against `ztroot root` as a child process:
// - a full disk (RLIMIT_FSIZE in a child shell, SIGXFSZ ignored, so identities.db's WAL cannot
//   grow): new identities are refused and counted, never as invalid, known peers keep being
//   served, and once space is back (the soft limit raised on the running process) the identities
//   refused earlier are admitted — regression: with packet workers, a refused write came back to
//   the worker as "invalid", which counted valid identities as invalid and remembered them as
//   failed, so they stayed refused after the disk recovered;
// - a bind failure on one of several addresses: a one-line error and exit status 1, no hang;
// - a low file-descriptor limit (ulimit -n in a child shell): the root runs, HTTP refuses while
//   descriptors are exhausted and recovers, UDP peers keep being answered; too low to start, it
//   exits 1 with the reason.
// A read-only home has its own tests: read-only-home.test.ts.

import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { loadOrCreateValidIdentities } from '../../tools/loadgen/key-material.ts';
import { endpoint, fixtureIdentities, KeyedPeer } from '../../tools/fuzz/peers.ts';
import { counter, RootTarget, ZTROOT_BIN } from '../../tools/fuzz/target.ts';

const ids = fixtureIdentities();
const rootId = ids[7];
const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'ztroot-fault-'));
  dirs.push(h);
  mkdirSync(join(h, 'moons.d'));
  writeFileSync(join(h, 'identity.secret'), rootId.toString(true), { mode: 0o600 });
  return h;
}

const havePrlimit = spawnSync('prlimit', ['--version']).status === 0;

describe('a full disk', () => {
  it.skipIf(!havePrlimit)('refuses new identities (counted, never as invalid), serves known peers, and admits the refused ones once space is back', async () => {
    const pool = await loadOrCreateValidIdentities(12, join(tmpdir(), 'ztroot-fuzz-cache'));
    const h = home();
    // a known peer, in the cache before the disk fills
    const store = new IdentityStore(join(h, 'identities.db'));
    store.put(ids[1].publicOnly());
    store.close();
    // 64 KiB per file: the WAL takes a few identities, then every write fails (EFBIG)
    const t = await RootTarget.spawn({ home: h, shellPrefix: 'trap "" XFSZ; ulimit -S -f 64', args: ['--validation-threads', '1'] });
    cleanups.push(() => t.dispose());
    const via = endpoint(t.udp.host, t.udp.port);
    const admitted: boolean[] = [];
    for (const [i, id] of pool.entries()) {
      const p = await KeyedPeer.open(id, rootId, via, `127.90.${i + 1}.1`);
      admitted.push(await p.register(3000).then(() => true, () => false));
      await p.close();
    }
    expect(admitted.filter((a) => !a).length).toBeGreaterThan(0);
    const known = await KeyedPeer.open(ids[1], rootId, via);
    cleanups.push(() => known.close());
    await known.register(20_000);
    expect(await known.whois(ids[1].address, 5000)).toBe(true);

    const m = await t.metrics();
    expect(counter(m, 'ztroot_drops_total', { reason: 'internal-error' })).toBeGreaterThan(0);
    expect(counter(m, 'ztroot_drops_total', { reason: 'invalid-identity' })).toBe(0);
    expect(counter(m, 'ztroot_identity_validations_total', { result: 'invalid' })).toBe(0);
    // the failing writes are logged as such, and nothing else went wrong
    const problems = t.logProblems().map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(problems.length).toBeGreaterThan(0);
    // (the main thread's packet path logs the refusal; a packet worker's adds the main thread's failed write)
    expect(problems).toContain('identity admission failed');
    for (const msg of problems) expect(['identity cache write failed', 'identity admission failed']).toContain(msg);

    // space is back: every identity refused before is admitted now
    execFileSync('prlimit', ['--pid', String(t.pid), '--fsize=unlimited:']);
    for (const [i, id] of pool.entries()) {
      if (admitted[i]) continue;
      const p = await KeyedPeer.open(id, rootId, via, `127.91.${i + 1}.1`);
      await p.register(20_000);
      await p.close();
    }
    await t.stop('SIGKILL');
    const after = new IdentityStore(join(h, 'identities.db'));
    try {
      for (const id of [ids[1], ...pool]) expect(after.get(id.address)?.equals(id)).toBe(true);
    } finally {
      after.close();
    }
  }, 180_000);
});

/** `ztroot root` that is expected not to start: its exit status and output (bounded). */
function failingStart(args: string[], shellPrefix = ''): { status: number | null; stderr: string; signal: NodeJS.Signals | null } {
  const h = home();
  const cmd = ['--home', h, '--port', '0', '--http', '', '--validation-threads', '1', ...args];
  const r = shellPrefix
    ? spawnSync('bash', ['-c', `${shellPrefix}; exec "$0" "$@"`, process.execPath, ZTROOT_BIN, 'root', ...cmd], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync(process.execPath, [ZTROOT_BIN, 'root', ...cmd], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, signal: r.signal };
}

describe('a bind failure on one of several addresses', () => {
  it('an address in use: one line naming it, exit status 1', async () => {
    const busy = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((res) => busy.bind(0, '127.0.0.2', () => res()));
    const port = busy.address().port;
    try {
      const r = failingStart(['--bind', `127.0.0.1,127.0.0.2`, '--port', String(port)]);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^ztroot root: .*127\\.0\\.0\\.2.*${port}.*$`, 'm'));
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    } finally {
      busy.close();
    }
  });

  it('an address this host does not have: one line naming it, exit status 1', () => {
    const r = failingStart(['--bind', '127.0.0.1,192.0.2.77']);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ztroot root: .*192\.0\.2\.77.*$/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a low file-descriptor limit', () => {
  it('ulimit -n 64: runs; HTTP refuses while descriptors are exhausted and recovers; UDP peers keep being answered', async () => {
    const t = await RootTarget.spawn({ identitySecret: rootId.toString(true), shellPrefix: 'ulimit -n 64', args: ['--validation-threads', '1'] });
    cleanups.push(() => t.dispose());
    const [host, port] = [t.http.split(':')[0], Number(t.http.split(':')[1])];
    const sockets = Array.from({ length: 300 }, () => connect(port, host).on('error', () => {}));
    try {
      // the descriptors are used up (the limit is the ceiling) while the root keeps running
      const deadline = Date.now() + 20_000;
      while (readdirSync(`/proc/${t.pid}/fd`).length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(`/proc/${t.pid}/fd`).length).toBeGreaterThanOrEqual(60);
      const p = await KeyedPeer.open(ids[0], rootId, endpoint(t.udp.host, t.udp.port));
      cleanups.push(() => p.close());
      await p.register(20_000);
      expect(await p.whois(ids[0].address, 5000)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
    }
    // connections gone: HTTP answers again (bounded retries while the root closes its side)
    let status: number | undefined;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await fetch(`http://${t.http}/health`).then((r) => r.status, () => undefined);
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(t.running).toBe(true);
    expect(t.logProblems()).toEqual([]);
  }, 120_000);

  it('ulimit -n 24, too few to start: exit status 1 with the reason, no hang', () => {
    const r = failingStart(['--bind', '127.0.0.1'], 'ulimit -n 24');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ztroot root: .*(EMFILE|unable to open|too many open files).*$/mi); // which resource runs out first varies
  });
});
