// The datagram campaign against a root it did not start (`npm run fuzz -- --target HOST:PORT
// --target-identity FILE`): the root runs as its own process with a fresh identity, the campaign
// runs as another, knows only the root's identity.public, registers its own identities with real
// HELLOs, and reads drops and RSS from /metrics. The campaign must pass (known peers answered,
// unauthenticated sources get less than a byte back per byte), see the drops its categories aim at,
// and the root must log nothing at error level.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import type { DatagramReport } from '../../tools/fuzz/datagrams.ts';
import { REPO, RootTarget } from '../../tools/fuzz/target.ts';

const run = promisify(execFile);
const cleanups: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

it('a root started separately: 12k hostile datagrams from outside, known peers answered, drops seen in /metrics', async () => {
  const root = await RootTarget.spawn({ args: ['--validation-threads', '1', '--workers', '1'] });
  cleanups.push(() => root.dispose());
  const out = mkdtempSync(join(tmpdir(), 'ztroot-ablive-'));
  cleanups.push(() => rmSync(out, { recursive: true, force: true }));
  const json = join(out, 'report.json');
  const r = await run(process.execPath, [join(REPO, 'tools/fuzz/main.ts'), '--target', `${root.udp.host}:${root.udp.port}`,
    '--target-identity', join(root.home, 'identity.public'), '--metrics-url', `http://${root.http}/metrics`, '--metrics-token', root.metricsToken,
    '--packets', '12000', '--rate', '6000', '--sockets', '4', '--seed', '11', '--json', json], { timeout: 150_000 }).catch((e: { stdout: string; stderr: string; code: number }) => e);
  console.log(r.stdout);
  expect(r.stdout, r.stderr.slice(-3000)).toMatch(/PASS/);
  const [report] = JSON.parse(readFileSync(json, 'utf8')) as DatagramReport[];
  expect(report.transport).toBe(`live target ${root.udp.host}:${root.udp.port}`);
  expect(report.alive).toBe(true);
  expect(report.logProblems).toBeNull(); // not visible from outside
  expect(report.probes.afterAnswered).toBe(report.probes.afterSent);
  expect(report.unauthenticatedAmplification).toBeLessThan(1);
  expect(report.categories['capture-replay'].sent).toBe(0);
  expect(report.skipped['capture-replay']).toBeDefined();
  for (const c of ['random', 'header-rewrite', 'hello-malformed', 'verb-malformed', 'lz4-hostile', 'fragments'] as const) expect(report.categories[c].sent, c).toBeGreaterThan(300);
  // the valid-MAC categories reached the code past the MAC check: their drop reasons show
  for (const reason of ['too-short', 'bad-mac', 'decompress-failed', 'bad-payload']) expect(report.drops[reason] ?? 0, reason).toBeGreaterThan(0);
  expect(report.rssEndBytes).toBeGreaterThan(10 * 2 ** 20);
  expect(report.root.datagramsIn).toBeGreaterThan(6000);
  expect(root.running).toBe(true);
  expect(root.logProblems()).toEqual([]);
}, 180_000);
