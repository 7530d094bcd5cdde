// Starts worker threads through src/boot/worker-boot.js, so that they too load our modules
// already stripped of their types instead of loading Node's type stripper (see
// src/boot/stripped-sources.js). The worker sees its usual workerData and parentPort.

import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOT = new URL('./worker-boot.js', import.meta.url);

export function newWorker(entry: URL, options: WorkerOptions = {}): Worker {
  return new Worker(BOOT, { ...options, argv: [entry.href, ...(options.argv ?? [])] });
}
