// A real Prometheus (Debian's `prometheus` binary) for tests: started on a loopback port with
// storage in a temporary directory, queried through its HTTP API with bounded waits, stopped
// and removed afterwards.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface VectorSample { metric: Record<string, string>; value: [number, string] }

export interface PrometheusServer {
  /** http://127.0.0.1:port */
  base: string;
  /** a directory for files the configuration refers to (removed on stop) */
  dir: string;
  query(expr: string): Promise<VectorSample[]>;
  /** Poll until `expr` returns samples that `done` accepts, or throw after `ms` with the log. */
  waitFor(expr: string, done: (samples: VectorSample[]) => boolean, ms: number): Promise<VectorSample[]>;
  stop(): Promise<void>;
}

/** Start Prometheus with the configuration `configFor(dir)` returns (YAML text). */
export async function startPrometheus(configFor: (dir: string) => string): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ztroot-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), configFor(dir));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); });

  async function query(expr: string): Promise<VectorSample[]> {
    const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = await r.json() as { status: string; data?: { result: VectorSample[] }; error?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr}: ${body.error ?? r.status}`);
    return body.data.result;
  }

  return {
    base, dir, query,
    async waitFor(expr, done, ms) {
      const deadline = Date.now() + ms;
      let last: unknown = 'no answer';
      while (Date.now() < deadline) {
        if (child.exitCode !== null) break;
        try {
          const samples = await query(expr);
          if (done(samples)) return samples;
          last = samples;
        } catch (e) {
          last = (e as Error).message;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`Prometheus: no acceptable answer to ${expr} within ${ms} ms (exit ${child.exitCode}); last: ${JSON.stringify(last)}\nlog:\n${log}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
