// Crash consistency of the identity cache: rounds of `ztroot root` killed with SIGKILL at a random
// moment while fresh identities are being validated and written to identities.db. After every
// kill the store must open (ours first, then the root's own start), pass SQLite's integrity
// check, hold every identity the root acknowledged (its OK(HELLO) arrived) byte for byte, hold
// nothing that is not one of the identities we sent, and keep its row count right.

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { deserializeIdentity, type Identity } from '../../src/identity/identity.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { loadOrCreateValidIdentities } from '../loadgen/key-material.ts';
import { endpoint, fixtureIdentities, KeyedPeer } from './peers.ts';
import { Rng } from './rng.ts';
import { RootTarget } from './target.ts';

export interface Kill9Options {
  rounds: number;
  seed: number;
  /** New identities registering at once in each round. */
  peersPerRound: number;
  /** The kill lands uniformly in [0, killWithinMs) after registration starts. */
  killWithinMs: number;
  /** Identities with proof of work in the pool (cached); when a home has used them all, the next round starts a new home. */
  poolSize?: number;
  /** Where the pool of identities with proof of work is cached. */
  cacheDir?: string;
  progress?: (line: string) => void;
}

export interface Kill9Report {
  rounds: number;
  acknowledged: number;
  /** Acknowledged identities missing after a kill (must be 0). */
  missing: string[];
  /** Rows that do not decode, or are not an identity we sent, or differ from it (must be 0). */
  badRows: string[];
  integrityFailures: string[];
  countMismatches: string[];
  /** Stores that would not open after a kill, by us or by the root's next start. */
  openFailures: string[];
  rowsAtEnd: number;
  /** Homes used (a new one each time the pool of identities was used up). */
  homes: number;
  /** Rounds where the kill came before, during, or after the writes (by acknowledgements seen). */
  killMoments: { beforeAnyAck: number; duringAcks: number; afterAllAcked: number };
  seconds: number;
}

function checkStore(path: string, sent: Map<number, Identity>, acked: Set<number>, r: Kill9Report, round: number): void {
  try {
    new IdentityStore(path).close();
  } catch (e) {
    r.openFailures.push(`round ${round}: IdentityStore: ${(e as Error).message}`);
    return;
  }
  const db = new DatabaseSync(path);
  try {
    const integrity = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    if (integrity.length !== 1 || integrity[0].integrity_check !== 'ok') r.integrityFailures.push(`round ${round}: ${JSON.stringify(integrity)}`);
    const rows = db.prepare('SELECT address, identity FROM identities').all() as { address: number | bigint; identity: Uint8Array }[];
    const present = new Set<number>();
    for (const row of rows) {
      const address = Number(row.address);
      present.add(address);
      const d = deserializeIdentity(row.identity);
      const mine = sent.get(address);
      if (typeof d === 'string') r.badRows.push(`round ${round}: ${address.toString(16)} does not decode (${d})`);
      else if (!mine) r.badRows.push(`round ${round}: ${address.toString(16)} was never sent`);
      else if (!d.identity.equals(mine) || d.identity.hasPrivate) r.badRows.push(`round ${round}: ${address.toString(16)} differs from what was sent`);
    }
    for (const a of acked) if (!present.has(a)) r.missing.push(`round ${round}: ${a.toString(16)}`);
    const n = Number((db.prepare('SELECT n FROM identity_count WHERE id = 0').get() as { n: number | bigint }).n);
    if (n !== rows.length) r.countMismatches.push(`round ${round}: count table ${n}, rows ${rows.length}`);
    r.rowsAtEnd = rows.length;
  } finally {
    db.close();
  }
}

export async function runKill9Campaign(o: Kill9Options): Promise<Kill9Report> {
  const log = o.progress ?? (() => {});
  const started = Date.now();
  const rng = new Rng(o.seed);
  const pool = await loadOrCreateValidIdentities(Math.min(o.poolSize ?? 240, o.rounds * o.peersPerRound), o.cacheDir ?? join(tmpdir(), 'ztroot-fuzz-cache'), log);
  const rootId = fixtureIdentities()[6];
  const newHome = (): string => {
    const h = mkdtempSync(join(tmpdir(), 'ztroot-kill9-'));
    mkdirSync(join(h, 'moons.d'), { recursive: true });
    writeFileSync(join(h, 'identity.secret'), rootId.toString(true), { mode: 0o600 });
    return h;
  };
  let home = newHome();
  let db = join(home, 'identities.db');
  const r: Kill9Report = {
    rounds: 0, homes: 1, acknowledged: 0, missing: [], badRows: [], integrityFailures: [], countMismatches: [], openFailures: [], rowsAtEnd: 0,
    killMoments: { beforeAnyAck: 0, duringAcks: 0, afterAllAcked: 0 }, seconds: 0,
  };
  const sent = new Map<number, Identity>();
  const acked = new Set<number>();
  let ackedBefore = 0;
  let homes = 1;
  let next = 0;
  try {
    for (let round = 1; round <= o.rounds; round++) {
      if (next + o.peersPerRound > pool.length) {
        // this home has seen the whole pool: go on with a new home (and store) from the start of it
        rmSync(home, { recursive: true, force: true });
        home = newHome();
        db = join(home, 'identities.db');
        homes++;
        ackedBefore += acked.size;
        sent.clear();
        acked.clear();
        next = 0;
      }
      let target: RootTarget;
      try {
        target = await RootTarget.spawn({ home, args: ['--validation-threads', '1'] });
      } catch (e) {
        r.openFailures.push(`round ${round}: the root did not start: ${(e as Error).message.slice(0, 500)}`);
        break;
      }
      const via = endpoint(target.udp.host, target.udp.port);
      // this round's identities: those never acknowledged yet, each from its own /24
      const batch = pool.slice(next, next + o.peersPerRound);
      const peers = await Promise.all(batch.map((id, k) => KeyedPeer.open(id, rootId, via, `127.70.${(round * o.peersPerRound + k) % 250 + 1}.1`)));
      for (const id of batch) sent.set(id.address, id.publicOnly());
      let ackedThisRound = 0;
      for (const p of peers) {
        void p.register(60_000).then(() => { acked.add(p.identity.address); ackedThisRound++; }, () => {});
      }
      const delay = rng.int(o.killWithinMs);
      await new Promise((res) => setTimeout(res, delay));
      target.child.kill('SIGKILL');
      const exit = await target.exited;
      if (exit.signal !== 'SIGKILL') r.openFailures.push(`round ${round}: the root exited by itself (${JSON.stringify(exit)}) before the kill`);
      // nothing acknowledged after this point can count: the process is gone
      const ackedNow = ackedThisRound;
      for (const p of peers) await p.close();
      if (ackedNow === 0) r.killMoments.beforeAnyAck++;
      else if (ackedNow < batch.length) r.killMoments.duringAcks++;
      else r.killMoments.afterAllAcked++;
      checkStore(db, sent, acked, r, round);
      r.rounds = round;
      // identities acknowledged are done; the others are offered again next round
      const done = batch.filter((id) => acked.has(id.address)).length;
      const rest = batch.filter((id) => !acked.has(id.address));
      pool.splice(next, batch.length, ...batch.filter((id) => acked.has(id.address)), ...rest);
      next += done;
      if (round % 5 === 0 || round === o.rounds) log(`round ${round}/${o.rounds}: ${ackedBefore + acked.size} acknowledged, ${r.rowsAtEnd} rows, killed after ${delay} ms`);
    }
    // the last kill too: the root starts on it and answers
    const last = await RootTarget.spawn({ home, args: ['--validation-threads', '1'] }).catch((e: unknown) => {
      r.openFailures.push(`final start: ${(e as Error).message.slice(0, 500)}`);
      return undefined;
    });
    await last?.stop('SIGKILL');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  r.acknowledged = ackedBefore + acked.size;
  r.homes = homes;
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

export function kill9Failures(r: Kill9Report): string[] {
  const f: string[] = [];
  if (r.missing.length) f.push(`${r.missing.length} acknowledged identities missing: ${r.missing.slice(0, 5).join('; ')}`);
  if (r.badRows.length) f.push(`${r.badRows.length} bad rows: ${r.badRows.slice(0, 5).join('; ')}`);
  if (r.integrityFailures.length) f.push(`integrity check failed: ${r.integrityFailures.slice(0, 3).join('; ')}`);
  if (r.countMismatches.length) f.push(`row count wrong: ${r.countMismatches.slice(0, 3).join('; ')}`);
  if (r.openFailures.length) f.push(`store or root did not open: ${r.openFailures.slice(0, 3).join('; ')}`);
  return f;
}

export function formatKill9Report(r: Kill9Report): string {
  return [
    `kill -9 campaign — ${r.rounds} rounds in ${r.seconds.toFixed(0)} s (${r.homes} homes)`,
    `  identities acknowledged (OK(HELLO) received) ${r.acknowledged}; rows in identities.db at the end ${r.rowsAtEnd}`,
    `  kill moments: before any acknowledgement ${r.killMoments.beforeAnyAck}, during ${r.killMoments.duringAcks}, after all ${r.killMoments.afterAllAcked}`,
    `  acknowledged but missing: ${r.missing.length}; bad or unknown rows: ${r.badRows.length}; integrity failures: ${r.integrityFailures.length}; count mismatches: ${r.countMismatches.length}; failed opens: ${r.openFailures.length}`,
  ].join('\n');
}
