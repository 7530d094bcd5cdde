// New-identity admission under a flood (08-root-behaviour.md §3.3 and the scale issue): HELLOs
// carrying fresh invalid identities from many source /24s are refused, each counted once by
// reason, beyond the validation backlog before any validation, never answered, while a known
// peer keeps being answered. Validation threads run in the background scheduling class.

import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/identity/identity.ts';
import { DEFAULT_VALIDATION_BACKLOG } from '../../src/node/hello-intake.ts';
import { ValidationPool } from '../../src/node/validation-pool.ts';
import { RawPeer, removeDirs, startTestRoot, VECTOR_IDENTITIES, waitUntil, type TestRoot } from '../support/root-harness.ts';

const [rootId, idKnown, idKeys] = VECTOR_IDENTITIES;
const NETWORKS = 20;
const PER_NETWORK = 10;

let t: TestRoot;
let known: RawPeer;
const attackers: RawPeer[] = [];

/** An identity with idKeys' X25519 key (so its HELLO has a valid MAC) that fails proof of work. */
function invalidIdentity(k: number): Identity {
  const pub = Uint8Array.from(idKeys.publicKey);
  pub.set(randomBytes(32), 32);
  return new Identity((0x1100000000 + k * 7919) % 2 ** 40, pub, idKeys.privateKey);
}

beforeAll(async () => {
  t = await startTestRoot({ identity: rootId });
  known = await RawPeer.open(idKnown);
  await known.register(t.endpoint, rootId);
  for (let n = 1; n <= NETWORKS; n++) attackers.push(await RawPeer.open(idKeys, `127.${n}.7.1`));
});

afterAll(async () => {
  for (const p of [known, ...attackers]) await p.close();
  await t.stop();
  removeDirs([t.home]);
});

describe('a flood of fresh invalid identities from many networks', () => {
  it('refuses each HELLO once by reason, validates at most the backlog, answers none, and still answers a known peer', async () => {
    const s = t.root.node.stats;
    const reasons = ['invalid-identity', 'validation-queue-full', 'admission-limited'] as const;
    const dropped = (): number => reasons.reduce((sum, r) => sum + (s.drops.get(r) ?? 0), 0);
    const before = { dropped: dropped(), invalid: s.validationsInvalid };
    const fakes: Identity[] = [];
    for (let k = 0; k < NETWORKS * PER_NETWORK; k++) {
      const fake = invalidIdentity(k);
      fakes.push(fake);
      attackers[k % NETWORKS].hello(t.endpoint, rootId, { as: fake });
    }
    const sent = fakes.length;
    await waitUntil(() => dropped() - before.dropped === sent, `a drop for each of the ${sent} HELLOs`, 30_000);

    const queueFull = s.drops.get('validation-queue-full') ?? 0;
    const validated = s.validationsInvalid - before.invalid;
    // one validation thread cannot keep up with a burst: most were refused before validation ...
    expect(queueFull).toBeGreaterThan(0);
    // ... and every HELLO was counted exactly once: validated-and-invalid, or refused before
    expect((s.drops.get('invalid-identity') ?? 0) + queueFull + (s.drops.get('admission-limited') ?? 0) - before.dropped).toBe(sent);
    expect(validated + queueFull).toBe(sent);
    expect(validated).toBeGreaterThanOrEqual(DEFAULT_VALIDATION_BACKLOG);

    // the known peer is answered while this goes on, and no fake identity ever was
    t.clock.advance(1000);
    await known.register(t.endpoint, rootId);
    await known.barrier(t.endpoint, rootId); // one root socket: everything sent before is handled
    for (const [k, fake] of fakes.entries()) expect(attackers[k % NETWORKS].pendingFrom(rootId, fake)).toEqual([]);
    expect(t.root.store.size).toBe(1);
  });
});

describe('validation threads', () => {
  it('run in the background: SCHED_IDLE with the native addon, else reniced', async () => {
    const pool = new ValidationPool({ threads: 2 });
    try {
      await Promise.all([pool.submit(idKnown), pool.submit(idKeys)]);
      // /proc/self/task/<tid>/stat: after the ")" of the name, field 19 is nice and field 41 the policy
      const threads = readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return { nice: Number(fields[16]), policy: Number(fields[38]) };
      });
      const SCHED_IDLE = 5;
      const background = threads.filter((th) => th.policy === SCHED_IDLE || th.nice > 0);
      expect(background.length).toBeGreaterThanOrEqual(2);
      expect(threads.filter((th) => th.policy === 0 && th.nice === 0).length).toBeGreaterThan(0); // this thread is not
    } finally {
      await pool.close();
    }
  });
});
