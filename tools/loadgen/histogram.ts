// A latency histogram with logarithmic buckets (about 2 % wide, from 1 µs to over an hour), so
// shards in other processes can send their counts and the sums give exact merged percentiles
// (to bucket precision).

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 1200;

export class LatencyHistogram {
  readonly counts: number[];
  total = 0;
  maxMicros = 0;

  constructor(counts?: readonly number[]) {
    this.counts = counts ? [...counts] : new Array<number>(BUCKETS).fill(0);
    for (const c of this.counts) this.total += c;
  }

  record(micros: number): void {
    const us = micros < 1 ? 1 : micros;
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(us) / LOG_GROWTH));
    this.counts[i]++;
    this.total++;
    if (us > this.maxMicros) this.maxMicros = us;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  /** The latency (µs, bucket upper bound) under which fraction `q` of the samples fall; NaN if empty. */
  percentile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(GROWTH ** (i + 1), Math.max(this.maxMicros, 1));
    }
    return this.maxMicros;
  }

  toJSON(): { counts: number[]; maxMicros: number } {
    return { counts: this.counts, maxMicros: this.maxMicros };
  }

  static fromJSON(j: { counts: number[]; maxMicros: number }): LatencyHistogram {
    const h = new LatencyHistogram(j.counts);
    h.maxMicros = j.maxMicros;
    return h;
  }
}
