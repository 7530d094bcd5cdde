// A bounded pool of worker threads that validate identities (the memory-hard hash costs tens of
// milliseconds), so new identities never block the packet path. The queue is bounded: when it
// is full, submit() refuses at once and the caller drops the HELLO (and counts it).

import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Identity } from '../identity/identity.ts';
import type { ValidationRequest, ValidationResponse } from './validation-worker.ts';
import { newWorker } from '../boot/new-worker.ts';

export interface ValidationPoolOptions {
  /** Worker threads at most (default: available cores). */
  threads?: number;
  /** Requests waiting for a worker beyond which submit() refuses. */
  maxQueue?: number;
  /** Old-generation heap limit of each thread, MiB (V8's default when unset). */
  heapMb?: number;
  /** A thread idle this long exits; the next job starts one again (default VALIDATION_THREAD_IDLE_MS). */
  idleMs?: number;
  /** The last running thread exited for want of work (the process may hand back what they used). */
  onAllIdle?: () => void;
}

/**
 * How long a validation thread outlives its last job. A thread is a whole V8 isolate (about
 * 10–20 MiB resident here) that only a burst of never-seen identities needs, and starting one
 * costs tens of milliseconds — less than the proof-of-work check it then runs.
 */
export const VALIDATION_THREAD_IDLE_MS = 30_000;

/**
 * After a thread fails to start or dies without answering (descriptors or memory exhausted),
 * no new thread is tried for this long; meanwhile jobs are validated on the calling thread, at
 * most INLINE_VALIDATIONS_PER_SECOND (the rest are refused like a full queue). A valid identity
 * is never counted invalid because a thread could not run.
 */
const THREAD_RETRY_MS = 5_000;
const INLINE_VALIDATIONS_PER_SECOND = 10;

export type ValidationOutcome = { valid: boolean; micros: number } | 'queue-full' | 'closed';

interface Job { req: ValidationRequest; resolve: (o: ValidationOutcome) => void }

/** What the node core needs from identity validation (a local pool, or one in another thread). */
export interface IdentityValidator {
  submit(identity: Identity): Promise<ValidationOutcome>;
  readonly queueDepth: number;
  readonly inFlight: number;
  close(): Promise<void>;
}

interface Slot { worker: Worker; busy: Job | null; idleTimer: NodeJS.Timeout | undefined }

export class ValidationPool implements IdentityValidator {
  /** Threads running now (started on demand, up to `threads`). */
  private readonly workers: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly maxThreads: number;
  private readonly maxQueue: number;
  private readonly heapMb: number | undefined;
  private readonly idleMs: number;
  private readonly onAllIdle: (() => void) | undefined;
  private nextId = 1;
  private closed = false;
  /** No thread is started before this (Date.now() ms): the last one could not run. */
  private noThreadsUntil = 0;
  private inlineWindow = { startMs: 0, count: 0 };
  /** Jobs validated on the calling thread because no thread could run. */
  inlineValidations = 0;

  constructor(options: ValidationPoolOptions = {}) {
    this.maxThreads = Math.max(1, options.threads ?? availableParallelism());
    this.maxQueue = options.maxQueue ?? 256;
    this.heapMb = options.heapMb;
    this.idleMs = options.idleMs ?? VALIDATION_THREAD_IDLE_MS;
    this.onAllIdle = options.onAllIdle;
  }

  /** Jobs waiting for a worker. */
  get queueDepth(): number {
    return this.queue.length;
  }
  /** Jobs being validated right now. */
  get inFlight(): number {
    return this.workers.filter((w) => w.busy).length;
  }
  /** Threads the pool may run at once. */
  get threads(): number {
    return this.maxThreads;
  }
  /** Threads running now (0 while there has been no work for `idleMs`). */
  get runningThreads(): number {
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

  private startThread(): Slot {
    const worker = newWorker(new URL('./validation-worker.ts', import.meta.url),
      this.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } } : {});
    worker.unref();
    const slot: Slot = { worker, busy: null, idleTimer: undefined };
    worker.on('message', (res: ValidationResponse) => {
      const job = slot.busy;
      slot.busy = null;
      if (job && job.req.id === res.id) job.resolve({ valid: res.valid, micros: res.micros });
      this.pump();
    });
    // a thread that cannot start (ERR_WORKER_INIT_FAILED: EMFILE, ENOMEM) or dies gave no verdict
    const lost = (): void => {
      if (this.closed) return;
      const job = slot.busy;
      slot.busy = null;
      this.noThreadsUntil = Date.now() + THREAD_RETRY_MS;
      if (job) this.validateInline(job);
    };
    worker.on('error', lost);
    worker.once('exit', () => {
      clearTimeout(slot.idleTimer);
      const i = this.workers.indexOf(slot);
      if (i >= 0) this.workers.splice(i, 1);
      if (slot.busy) lost();
      this.pump();
    });
    this.workers.push(slot);
    return slot;
  }

  /** A job no thread can take: validated here while the budget lasts, else refused as a full queue. */
  private validateInline(job: Job): void {
    const now = Date.now();
    if (now - this.inlineWindow.startMs >= 1000) this.inlineWindow = { startMs: now, count: 0 };
    if (this.inlineWindow.count >= INLINE_VALIDATIONS_PER_SECOND) return job.resolve('queue-full');
    this.inlineWindow.count++;
    this.inlineValidations++;
    const start = performance.now();
    const valid = new Identity(job.req.address, job.req.publicKey).locallyValidate();
    job.resolve({ valid, micros: Math.round((performance.now() - start) * 1000) });
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      const canStart = this.workers.length < this.maxThreads && Date.now() >= this.noThreadsUntil;
      const slot = this.workers.find((w) => !w.busy) ?? (canStart ? this.startThread() : undefined);
      if (!slot) {
        if (this.workers.length > 0) return; // busy threads will come back for the queue
        this.validateInline(this.queue.shift()!);
        continue;
      }
      clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      const job = this.queue.shift()!;
      slot.busy = job;
      slot.worker.postMessage(job.req);
    }
    for (const slot of this.workers) {
      if (slot.busy || slot.idleTimer) continue;
      slot.idleTimer = setTimeout(() => {
        const i = this.workers.indexOf(slot);
        if (i >= 0) this.workers.splice(i, 1);
        // only the thread whose exit empties the pool reports it (threads idle together end together)
        const last = this.workers.length === 0;
        void slot.worker.terminate().then(() => {
          if (last && !this.closed && this.workers.length === 0) this.onAllIdle?.();
        });
      }, this.idleMs);
      slot.idleTimer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve('closed');
    for (const slot of this.workers.splice(0)) {
      clearTimeout(slot.idleTimer);
      slot.busy?.resolve('closed');
      slot.busy = null;
      await slot.worker.terminate();
    }
  }
}
