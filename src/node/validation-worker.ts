// Worker thread body for the validation pool: runs the memory-hard identity check.

import { parentPort } from 'node:worker_threads';
import { Identity } from '../identity/identity.ts';
import { backgroundThisThread } from '../util/thread-priority.ts';

export interface ValidationRequest { id: number; address: number; publicKey: Uint8Array }
export interface ValidationResponse { id: number; valid: boolean; micros: number }

// Validation threads run in the background: when a flood of new identities keeps them busy,
// the packet threads answering known peers still get the CPU first.
backgroundThisThread();

parentPort?.on('message', (req: ValidationRequest) => {
  const start = performance.now();
  const valid = new Identity(req.address, req.publicKey).locallyValidate();
  const res: ValidationResponse = { id: req.id, valid, micros: Math.round((performance.now() - start) * 1000) };
  parentPort!.postMessage(res);
});
