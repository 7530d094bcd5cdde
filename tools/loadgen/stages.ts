// What a load-generator stage is asked to do and what it reports. Plain JSON both ways: stages
// travel to shard processes over IPC and reports come back the same way.

import { LatencyHistogram } from './histogram.ts';

export type Rate = number | 'max';

export type StageSpec =
  /** HELLO every peer of the shard until each has been answered once (a window of them in flight). */
  | { kind: 'register'; seconds: number; window?: number }
  /**
   * Known-peer requests, round robin over the shard's request peers, at `rate` per second (open
   * loop), or with rate "max" as many as answers allow with `window` unanswered (closed loop).
   */
  | { kind: 'hello' | 'whois' | 'echo'; rate: Rate; seconds: number; window?: number }
  /** Packets between pairs of the shard's relay peers through the root; rate and window as above. */
  | { kind: 'relay'; rate: Rate; seconds: number; size?: number; window?: number }
  /** HELLO from identities with valid proof of work that the root has never seen, each from its own /24. */
  | { kind: 'admit'; seconds: number; identities: string[]; perSourceNetwork: boolean }
  /** HELLOs from one extra socket (one source): unknown identities, malformed ones, or replayed known ones. */
  | { kind: 'flood'; flood: FloodKind; rate: number; seconds: number }
  /**
   * Known-peer HELLOs at `helloRate` while HELLOs carrying fresh invalid identities (no proof of
   * work, valid MACs, never the same identity twice) arrive at `floodRate` from `networks`
   * source /24s: how many known peers the root keeps answering, and whether any flood HELLO is.
   */
  | { kind: 'attack'; floodRate: number; helloRate: number; seconds: number; networks: number }
  /** HELLO + WHOIS every few ms until the WHOIS is answered (started while a root is starting). */
  | { kind: 'restart-probe'; seconds: number; whois: number; intervalMs?: number };

export type FloodKind = 'unknown' | 'invalid' | 'replay';

export interface StageReport {
  kind: string;
  /** Seconds the stage spent sending (for rates), excluding the drain at the end. */
  seconds: number;
  /** Rate actually asked for after per-peer reply spacing was applied (0 = not rate-driven). */
  targetRate: number;
  sent: number;
  /** Replies (or relayed packets) that arrived for what this stage sent. */
  answered: number;
  /** sent − answered, never negative. */
  lost: number;
  /** Replies that did not open as the expected OK (verify mode only). */
  invalid: number;
  bytesSent: number;
  bytesReceived: number;
  latency: { counts: number[]; maxMicros: number };
  /** Stage-specific counters (registered, admitted, rendezvous, loadgenCpuMs, …). */
  extra: Record<string, number>;
}

export function emptyReport(kind: string): StageReport {
  return {
    kind, seconds: 0, targetRate: 0, sent: 0, answered: 0, lost: 0, invalid: 0, bytesSent: 0, bytesReceived: 0,
    latency: new LatencyHistogram().toJSON(), extra: {},
  };
}

/** Counters whose merge is a maximum or minimum rather than a sum. */
const MERGE_MAX = /(Seconds|EpochMs|AtMs)$/;
const MERGE_MIN = /^first/;

/** Combine the reports of shards that ran the same stage at the same time. */
export function mergeReports(reports: StageReport[]): StageReport {
  if (reports.length === 0) throw new Error('no reports to merge');
  const out = emptyReport(reports[0].kind);
  const h = new LatencyHistogram();
  for (const r of reports) {
    out.seconds = Math.max(out.seconds, r.seconds);
    out.targetRate += r.targetRate;
    out.sent += r.sent;
    out.answered += r.answered;
    out.invalid += r.invalid;
    out.bytesSent += r.bytesSent;
    out.bytesReceived += r.bytesReceived;
    h.merge(LatencyHistogram.fromJSON(r.latency));
    for (const [k, v] of Object.entries(r.extra)) {
      const cur = out.extra[k];
      if (cur === undefined) out.extra[k] = v;
      else if (MERGE_MIN.test(k)) out.extra[k] = Math.min(cur, v);
      else if (MERGE_MAX.test(k)) out.extra[k] = Math.max(cur, v);
      else out.extra[k] = cur + v;
    }
  }
  out.lost = Math.max(0, out.sent - out.answered);
  out.latency = h.toJSON();
  return out;
}

export interface StageSummary {
  kind: string;
  seconds: number;
  targetRate: number;
  sentPerSecond: number;
  answeredPerSecond: number;
  sent: number;
  answered: number;
  lossPercent: number;
  invalid: number;
  p50Micros: number;
  p90Micros: number;
  p99Micros: number;
  maxMicros: number;
  bytesSent: number;
  bytesReceived: number;
  extra: Record<string, number>;
}

export function summarize(r: StageReport): StageSummary {
  const h = LatencyHistogram.fromJSON(r.latency);
  const s = r.seconds > 0 ? r.seconds : Number.NaN;
  return {
    kind: r.kind, seconds: r.seconds, targetRate: r.targetRate,
    sentPerSecond: r.sent / s, answeredPerSecond: r.answered / s, sent: r.sent, answered: r.answered,
    lossPercent: r.sent > 0 ? (100 * r.lost) / r.sent : 0, invalid: r.invalid,
    p50Micros: h.percentile(0.5), p90Micros: h.percentile(0.9), p99Micros: h.percentile(0.99), maxMicros: h.maxMicros,
    bytesSent: r.bytesSent, bytesReceived: r.bytesReceived, extra: r.extra,
  };
}

function si(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return '—';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(0)} µs`;
}

/** One line per stage for the CLI. */
export function formatSummary(s: StageSummary): string {
  const lat = Number.isFinite(s.p50Micros) ? `  latency p50 ${formatMicros(s.p50Micros)} p90 ${formatMicros(s.p90Micros)} p99 ${formatMicros(s.p99Micros)}` : '';
  const extra = Object.entries(s.extra).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`).join(' ');
  return `${s.kind.padEnd(14)} ${s.seconds.toFixed(1)} s  sent ${si(s.sentPerSecond)}/s  answered ${si(s.answeredPerSecond)}/s  ` +
    `(${s.answered}/${s.sent}, loss ${s.lossPercent.toFixed(2)} %${s.invalid ? `, ${s.invalid} invalid` : ''})${lat}${extra ? `  [${extra}]` : ''}`;
}
