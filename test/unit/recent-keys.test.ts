import { expect, it } from 'vitest';
import { RecentKeys } from '../../src/util/recent-keys.ts';

it('remembers a key for at least the window and then forgets it, with two generations at most', () => {
  const r = new RecentKeys(30_000, 1000);
  r.add(1, 0);
  expect(r.has(1, 29_999)).toBe(true);
  expect(r.has(1, 30_000)).toBe(false);
  r.add(2, 20_000); // same generation as 1
  r.add(3, 40_000); // rotates: 1 and 2 become the previous generation
  expect(r.has(2, 45_000)).toBe(true); // still inside its window although a generation older
  expect(r.has(3, 45_000)).toBe(true);
  r.add(4, 75_000); // rotates again: 1 and 2 are gone
  expect(r.size).toBe(2);
  expect(r.has(2, 45_000)).toBe(false);
});

it('stays bounded when keys arrive faster than the window lets them go', () => {
  const r = new RecentKeys(30_000, 100);
  for (let k = 0; k < 10_000; k++) r.add(k, 1);
  expect(r.size).toBeLessThanOrEqual(200);
  expect(r.has(9_999, 2)).toBe(true);
});
