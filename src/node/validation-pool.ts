// A bounded pool of worker threads that validate identities (the memory-hard hash costs tens of
// milliseconds), so new identities never block the packet path. The queue is bounded: when it
// is full, submit() refuses at once and the caller drops the HELLO (and counts it).

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Identity } from '../identity/identity.ts';
import type { ValidationRequest, ValidationResponse } from './validation-worker.ts';

export interface ValidationPoolOptions {
  /** Worker threads (default: available cores). */
  threads?: number;
  /** Requests waiting for a worker beyond which submit() refuses. */
  maxQueue?: number;
  /** Old-generation heap limit of each thread, MiB (V8's default when unset). */
  heapMb?: number;
}

export type ValidationOutcome = { valid: boolean; micros: number } | 'queue-full' | 'closed';

interface Job { req: ValidationRequest; resolve: (o: ValidationOutcome) => void }

/** What the node core needs from identity validation (a local pool, or one in another thread). */
export interface IdentityValidator {
  submit(identity: Identity): Promise<ValidationOutcome>;
  readonly queueDepth: number;
  readonly inFlight: number;
  close(): Promise<void>;
}

export class ValidationPool implements IdentityValidator {
  private readonly workers: { worker: Worker; busy: Job | null }[] = [];
  private readonly queue: Job[] = [];
  private readonly maxQueue: number;
  private nextId = 1;
  private closed = false;

  constructor(options: ValidationPoolOptions = {}) {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.maxQueue = options.maxQueue ?? 256;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(new URL('./validation-worker.ts', import.meta.url),
        options.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.heapMb } } : {});
      worker.unref();
      const slot = { worker, busy: null as Job | null };
      worker.on('message', (res: ValidationResponse) => {
        const job = slot.busy;
        slot.busy = null;
        if (job && job.req.id === res.id) job.resolve({ valid: res.valid, micros: res.micros });
        this.pump();
      });
      worker.on('error', () => {
        slot.busy?.resolve({ valid: false, micros: 0 });
        slot.busy = null;
      });
      this.workers.push(slot);
    }
  }

  /** Jobs waiting for a worker. */
  get queueDepth(): number {
    return this.queue.length;
  }
  /** Jobs being validated right now. */
  get inFlight(): number {
    return this.workers.filter((w) => w.busy).length;
  }
  get threads(): number {
    return this.workers.length;
  }

  submit(identity: Identity): Promise<ValidationOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (this.queue.length >= this.maxQueue) return Promise.resolve('queue-full');
    return new Promise((resolve) => {
      this.queue.push({ req: { id: this.nextId++, address: identity.address, publicKey: identity.publicKey }, resolve });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.workers) {
      if (slot.busy) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.busy = job;
      slot.worker.postMessage(job.req);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve('closed');
    for (const slot of this.workers) {
      slot.busy?.resolve('closed');
      await slot.worker.terminate();
    }
  }
}
