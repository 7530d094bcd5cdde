// Counters the node core keeps on its hot paths: plain numbers in maps, read by the metrics
// layer when Prometheus scrapes (no per-peer labels).

import { verbName } from '../wire/constants.ts';

export type DropReason =
  | 'beacon' | 'too-short' | 'not-relaying' | 'hop-limit' | 'relay-unknown-destination' | 'unknown-peer'
  | 'bad-mac' | 'bad-cipher' | 'decompress-failed' | 'bad-payload' | 'old-protocol' | 'hello-address-mismatch'
  | 'identity-collision' | 'invalid-identity' | 'validation-queue-full' | 'admission-limited' | 'rate-limited'
  | 'fragment-rejected' | 'unexpected-ok' | 'internal-error' | 'not-for-us' | 'prohibited-path' | 'too-long-to-send'
  // a leaf's networks: configs, credentials and frames from peers, frames from its Ethernet side
  | 'unknown-network' | 'not-controller' | 'bad-signature' | 'bad-config' | 'credential-mismatch' | 'not-member'
  | 'frame-too-big' | 'frame-too-short' | 'foreign-source-mac' | 'whois-limited';

export type RelayOutcome = 'forwarded' | 'to-sibling' | 'hop-limit' | 'unknown-destination' | 'not-relaying';

export class NodeStats {
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly verbsIn = new Map<string, number>();
  readonly verbsOut = new Map<string, number>();
  readonly drops = new Map<DropReason, number>();
  readonly relay = new Map<RelayOutcome, number>();
  relayedBytes = 0;
  rendezvousSent = 0;
  /** OK(HELLO)s the batch UDP addon's native path sent (also counted in verbsOut). */
  nativeHelloAnswers = 0;
  validationsValid = 0;
  validationsInvalid = 0;
  /** Validation wall time, microseconds, in fixed buckets (le) for a histogram. */
  readonly validationBucketsMicros = [5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 5_000_000];
  readonly validationCounts = new Array<number>(this.validationBucketsMicros.length + 1).fill(0);
  validationSumMicros = 0;
  private readonly collectors: (() => void)[] = [];

  /** Counts kept elsewhere (the native HELLO fast path) are brought in by `f` whenever the stats are read. */
  addCollector(f: () => void): void {
    this.collectors.push(f);
  }

  /** Bring in the counts kept elsewhere; returns this. */
  collect(): this {
    for (const f of this.collectors) f();
    return this;
  }

  drop(reason: DropReason, n = 1): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
  }
  relayed(outcome: RelayOutcome): void {
    this.relay.set(outcome, (this.relay.get(outcome) ?? 0) + 1);
  }
  verbIn(verb: number, n = 1): void {
    const name = verbName(verb) ?? 'UNKNOWN';
    this.verbsIn.set(name, (this.verbsIn.get(name) ?? 0) + n);
  }
  verbOut(verb: number, n = 1): void {
    const name = verbName(verb) ?? 'UNKNOWN';
    this.verbsOut.set(name, (this.verbsOut.get(name) ?? 0) + n);
  }
  validation(valid: boolean, micros: number): void {
    if (valid) this.validationsValid++;
    else this.validationsInvalid++;
    this.validationSumMicros += micros;
    let i = 0;
    while (i < this.validationBucketsMicros.length && micros > this.validationBucketsMicros[i]) i++;
    this.validationCounts[i]++;
  }
}

/** NodeStats as plain data, for posting between threads. */
export interface StatsSnapshot {
  datagramsIn: number; datagramsOut: number; bytesIn: number; bytesOut: number;
  verbsIn: [string, number][]; verbsOut: [string, number][];
  drops: [DropReason, number][]; relay: [RelayOutcome, number][];
  relayedBytes: number; rendezvousSent: number; nativeHelloAnswers: number;
  validationsValid: number; validationsInvalid: number;
  validationCounts: number[]; validationSumMicros: number;
}

export function snapshotStats(s: NodeStats): StatsSnapshot {
  s.collect();
  return {
    datagramsIn: s.datagramsIn, datagramsOut: s.datagramsOut, bytesIn: s.bytesIn, bytesOut: s.bytesOut,
    verbsIn: [...s.verbsIn], verbsOut: [...s.verbsOut], drops: [...s.drops], relay: [...s.relay],
    relayedBytes: s.relayedBytes, rendezvousSent: s.rendezvousSent, nativeHelloAnswers: s.nativeHelloAnswers,
    validationsValid: s.validationsValid, validationsInvalid: s.validationsInvalid,
    validationCounts: [...s.validationCounts], validationSumMicros: s.validationSumMicros,
  };
}

/** Sum several threads' counters into one NodeStats (what /metrics shows). */
export function mergeStats(snapshots: readonly StatsSnapshot[]): NodeStats {
  const total = new NodeStats();
  const addAll = <K>(into: Map<K, number>, from: [K, number][]): void => {
    for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
  };
  for (const s of snapshots) {
    total.datagramsIn += s.datagramsIn;
    total.datagramsOut += s.datagramsOut;
    total.bytesIn += s.bytesIn;
    total.bytesOut += s.bytesOut;
    addAll(total.verbsIn, s.verbsIn);
    addAll(total.verbsOut, s.verbsOut);
    addAll(total.drops, s.drops);
    addAll(total.relay, s.relay);
    total.relayedBytes += s.relayedBytes;
    total.rendezvousSent += s.rendezvousSent;
    total.nativeHelloAnswers += s.nativeHelloAnswers;
    total.validationsValid += s.validationsValid;
    total.validationsInvalid += s.validationsInvalid;
    s.validationCounts.forEach((n, i) => { total.validationCounts[i] += n; });
    total.validationSumMicros += s.validationSumMicros;
  }
  return total;
}
