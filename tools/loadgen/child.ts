// One load-generator shard in its own process, driven over IPC by fleet.ts. It exits when told
// to, or as soon as its parent goes away (the IPC channel closes), so nothing outlives a run.

import type { LoadEngine } from './engine.ts';
import { openShardEngine, type FromChild, type ToChild } from './fleet.ts';

let engine: LoadEngine | undefined;

function reply(m: FromChild): void {
  process.send?.(m);
}

process.on('disconnect', () => process.exit(0));

process.on('message', (m: ToChild) => {
  void (async () => {
    switch (m.type) {
      case 'init':
        engine = await openShardEngine(m);
        reply({ type: 'ready', peers: engine.peerCount });
        return;
      case 'stage':
        try {
          if (!engine) throw new Error('stage before init');
          reply({ type: 'report', id: m.id, report: await engine.run(m.spec) });
        } catch (e) {
          reply({ type: 'error', id: m.id, message: (e as Error).message });
        }
        return;
      case 'close':
        await engine?.close();
        process.exit(0);
    }
  })().catch((e: unknown) => {
    process.stderr.write(`load generator shard: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
});
