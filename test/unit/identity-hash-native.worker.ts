// Worker for the identity hash thread test: hashes the public keys it is sent with the
// implementation this thread picks on its own, and says which one that was.
import { parentPort } from 'node:worker_threads';
import { identityHash, identityHashImplementation } from '../../src/identity/memory-hard-hash.ts';

parentPort!.on('message', (publicKeys: Uint8Array[]) => {
  const digests = publicKeys.map((k) => identityHash(k));
  parentPort!.postMessage({ implementation: identityHashImplementation(), digests });
});
