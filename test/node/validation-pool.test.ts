// The validation pool starts its threads only when there is work and lets them go when idle:
// an idle root holds no validation isolate (issue 13, footprint).

import { describe, expect, it } from 'vitest';
import { parseIdentity } from '../../src/identity/identity.ts';
import { ValidationPool } from '../../src/node/validation-pool.ts';
import { waitUntil } from '../support/root-harness.ts';
import { readVectorJson } from '../support/vectors.ts';

const { identities } = readVectorJson<{ identities: { public: string }[] }>('identities.json');
const valid = identities.slice(0, 3).map((i) => parseIdentity(i.public)!);


describe('ValidationPool', () => {
  it('runs no thread until a job arrives, at most `threads` while busy, and none after idleMs', async () => {
    const pool = new ValidationPool({ threads: 2, idleMs: 200 });
    try {
      expect(pool.runningThreads).toBe(0);
      const outcomes = await Promise.all(valid.map((id) => pool.submit(id)));
      expect(outcomes.every((o) => typeof o === 'object' && o.valid)).toBe(true);
      expect(pool.runningThreads).toBeGreaterThan(0);
      expect(pool.runningThreads).toBeLessThanOrEqual(2);
      await waitUntil(() => pool.runningThreads === 0, 'the idle threads to exit');
      // a new job after the threads went away starts one again
      const again = await pool.submit(valid[0]);
      expect(again).toMatchObject({ valid: true });
    } finally {
      await pool.close();
    }
    expect(pool.runningThreads).toBe(0);
    expect(await pool.submit(valid[0])).toBe('closed');
  });

  it('says once when the last thread has exited for want of work, and not on close', async () => {
    let allIdle = 0;
    const pool = new ValidationPool({ threads: 2, idleMs: 100, onAllIdle: () => { allIdle++; } });
    try {
      await Promise.all(valid.map((id) => pool.submit(id)));
      await waitUntil(() => allIdle > 0, 'the last thread to exit');
      await new Promise((r) => setTimeout(r, 200));
      expect(allIdle).toBe(1); // once, though the threads may go idle at the same time
      expect(pool.runningThreads).toBe(0);
      await pool.submit(valid[0]);
    } finally {
      await pool.close();
    }
    await new Promise((r) => setTimeout(r, 250));
    expect(allIdle).toBe(1);
  });

  it('refuses beyond its queue without starting more threads than allowed', async () => {
    const pool = new ValidationPool({ threads: 1, maxQueue: 1 });
    try {
      const first = pool.submit(valid[0]); // taken by the one thread
      const second = pool.submit(valid[1]); // waits in the queue
      expect(await pool.submit(valid[2])).toBe('queue-full');
      expect(pool.runningThreads).toBe(1);
      expect(await first).toMatchObject({ valid: true });
      expect(await second).toMatchObject({ valid: true });
    } finally {
      await pool.close();
    }
  });
});
