// A tiny benchmark harness: run a function repeatedly for a bounded time and report its rate.
// Figures are printed, never asserted.

export interface Measurement {
  name: string;
  opsPerSec: number;
  /** bytes per second when the case processes a known number of bytes per op */
  bytesPerSec?: number;
}

/** This process's CPU time (user + system, all threads), milliseconds. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Run `fn` for about `seconds` (after a short warm-up) and return operations per second: of wall
 * time by default, or with `clock: 'cpu'` of this process's CPU time, which other processes on a
 * shared machine disturb far less.
 */
export function measure(
  name: string, fn: () => void, opts: { seconds?: number; bytesPerOp?: number; clock?: 'wall' | 'cpu' } = {},
): Measurement {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 1);
  const clock = opts.clock === 'cpu' ? cpuMs : () => performance.now();
  const warmupEnd = clock() + Math.min(200, seconds * 200);
  while (clock() < warmupEnd) fn();
  let ops = 0;
  let batch = 1;
  const start = clock();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = clock();
    if (now - start < 50) batch *= 2;
  }
  const opsPerSec = ops / ((now - start) / 1000);
  return { name, opsPerSec, bytesPerSec: opts.bytesPerOp ? opsPerSec * opts.bytesPerOp : undefined };
}

function fmt(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(1);
}

/** Print a group of measurements; `baseline` (a name in the group) gets ratio 1.00. */
export function report(title: string, rows: Measurement[], baseline?: string): void {
  const base = baseline ? rows.find((r) => r.name === baseline) : undefined;
  console.log(`\n${title}`);
  for (const r of rows) {
    const rate = r.bytesPerSec !== undefined ? `${(r.bytesPerSec / 1e6).toFixed(1).padStart(9)} MB/s` : `${fmt(r.opsPerSec).padStart(9)} ops/s`;
    const ratio = base ? `  ×${(r.opsPerSec / base.opsPerSec).toFixed(2)} vs ${base.name}` : '';
    console.log(`  ${r.name.padEnd(44)} ${rate}${ratio}`);
  }
}
