// Packet workers on demand. A root started with default settings runs its packet path on the main
// thread and adds a packet worker (up to one packet thread per core) when the running packet
// threads have been busy for a while, so an idle moon does not pay a V8 isolate (about 20 MiB
// resident each) while a loaded root still gets every core. The new worker joins the SO_REUSEPORT
// group of the same ports; the kernel then spreads flows over one more socket, and any thread can
// serve any peer (the peer table, the expected replies and the identity cache are shared). Workers
// are never retired: closing a socket of the group would drop what is queued in it.

import type { EventLoopUtilization, Performance } from 'node:perf_hooks';

/** A packet thread's event-loop utilization: `performance` of the main thread or of a Worker. */
export type UtilizationSource = Pick<Performance, 'eventLoopUtilization'>;

export interface WorkerScalingOptions {
  /** Packet threads at most. */
  max: number;
  /** Mean event-loop utilization of the running packet threads above which a sample counts as busy. */
  busyAbove: number;
  /** Consecutive busy samples before one more worker starts. */
  busySamples: number;
  sampleMs: number;
}

export const WORKER_SCALING = { busyAbove: 0.5, busySamples: 3, sampleMs: 1000 } as const;

/** Decides, sample by sample, whether to add a worker; kept apart from timers for tests. */
export class ScalingDecision {
  private readonly options: Pick<WorkerScalingOptions, 'max' | 'busyAbove' | 'busySamples'>;
  private busyRun = 0;

  constructor(options: Pick<WorkerScalingOptions, 'max' | 'busyAbove' | 'busySamples'>) {
    this.options = options;
  }

  /** One sample: each running packet thread's utilization since the last one. True: start one more. */
  sample(utilizations: readonly number[]): boolean {
    if (utilizations.length === 0 || utilizations.length >= this.options.max) {
      this.busyRun = 0;
      return false;
    }
    const mean = utilizations.reduce((a, b) => a + b, 0) / utilizations.length;
    this.busyRun = mean > this.options.busyAbove ? this.busyRun + 1 : 0;
    if (this.busyRun < this.options.busySamples) return false;
    this.busyRun = 0;
    return true;
  }
}

export class WorkerScaler {
  private readonly options: WorkerScalingOptions;
  private readonly running: () => readonly UtilizationSource[];
  private readonly add: () => Promise<boolean>;
  private readonly decision: ScalingDecision;
  /** Each running thread's utilization at the last sample (a replaced worker's is dropped). */
  private last = new Map<UtilizationSource, EventLoopUtilization>();
  private timer: NodeJS.Timeout | undefined;
  private adding = false;

  /** `add` starts one more worker and says false when it could not (then no more are tried). */
  constructor(options: WorkerScalingOptions, running: () => readonly UtilizationSource[], add: () => Promise<boolean>) {
    this.options = options;
    this.running = running;
    this.add = add;
    this.decision = new ScalingDecision(options);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.adding) return;
    const seen = new Map<UtilizationSource, EventLoopUtilization>();
    const utilizations = this.running().map((thread) => {
      const now = thread.eventLoopUtilization();
      const before = this.last.get(thread);
      seen.set(thread, now);
      return before ? thread.eventLoopUtilization(now, before).utilization : 0;
    });
    this.last = seen;
    if (!this.decision.sample(utilizations)) return;
    this.adding = true;
    void this.add().then((ok) => {
      this.adding = false;
      if (!ok) this.stop();
    });
  }
}
