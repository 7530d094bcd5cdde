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
// (A read-only home cannot be made here: the tests run as root, which writes through file modes;
// the full disk exercises the same failing write.)

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
    expect(new Set(problems)).toEqual(new Set(['identity cache write failed', 'identity admission failed']));

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
