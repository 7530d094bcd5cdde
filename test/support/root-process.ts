// `ztroot root` as a real child process (the same Node as the tests), for kill -9 and SIGHUP
// tests: collects its output, waits for lines, and reports the UDP endpoint it bound.

import { sleepUntilWoken } from './wakers.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import type { IpAddress } from '../../src/wire/inet-address.ts';
import { ZTROOT_BIN } from './cli.ts';
import { endpointOf } from './root-harness.ts';

export class RootProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly wakers = new Set<() => void>();

  private constructor(args: string[]) {
    this.child = spawn(process.execPath, [ZTROOT_BIN, 'root', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (t: string) => { this.stdout += t; this.wakeAll(); });
    this.child.stderr!.setEncoding('utf8').on('data', (t: string) => { this.stderr += t; this.wakeAll(); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => { this.wakeAll(); resolve({ code, signal }); }));
  }

  /** Start `ztroot root --home <home>` on 127.0.0.1, an ephemeral UDP port, no HTTP, one validation thread. */
  static async start(home: string, extra: string[] = []): Promise<RootProcess> {
    const p = new RootProcess(['--home', home, '--bind', '127.0.0.1', '--port', '0', '--http', '', '--validation-threads', '1', ...extra]);
    // the signal handlers are installed right after this banner is written
    await p.waitFor(() => /is running/.test(p.stdout) && p.logLines('root started').length > 0, 'the startup banner and log line');
    return p;
  }

  private wakeAll(): void {
    for (const w of [...this.wakers]) w();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait (bounded) until `condition` holds; fails early if the process exits. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (!this.running) throw new Error(`ztroot root exited while waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await sleepUntilWoken(this.wakers, left);
    }
  }

  /** The complete JSON log lines (stderr) with this message. */
  logLines(msg: string): Record<string, unknown>[] {
    const lines = this.stderr.split('\n').slice(0, -1); // the last piece is not a whole line yet
    const out: Record<string, unknown>[] = [];
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        if (j.msg === msg) out.push(j);
      } catch { /* not a log line */ }
    }
    return out;
  }

  /** The first UDP endpoint from the "root started" log line. */
  get udpEndpoint(): IpAddress {
    const started = this.logLines('root started')[0];
    const udp = started?.udp as string[] | undefined;
    if (!udp?.[0]) throw new Error(`no "root started" line with udp sockets in: ${this.stderr}`);
    const [address, port] = udp[0].split('/');
    return endpointOf({ address, port: Number(port) });
  }

  /** Send a signal and wait for the process to end (SIGKILL if it lingers). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
