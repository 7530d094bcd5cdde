// The node under test: `ztroot root` (or, with `role`, `ztroot leaf` / `ztroot controller`) spawned
// as a child process on loopback with a temporary home, with what a campaign reads about it — its
// log lines (errors counted), its tokens, /metrics, and its resident memory from /proc.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processRssBytes, scrapeMetrics, sumOf, type Sample } from '../loadgen/target-stats.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ZTROOT_BIN = join(REPO, 'bin/ztroot.js');

/** How long a spawned root may take to print its banner (validation threads, SQLite, workers). */
const START_TIMEOUT_MS = 30_000;
/** SIGTERM, then SIGKILL after this long. */
const STOP_TIMEOUT_MS = 10_000;

/** The `ztroot` command a target runs. */
export type TargetRole = 'root' | 'leaf' | 'controller';

export interface SpawnOptions {
  /** Default 'root'. A leaf or controller takes its tokens from its home. */
  role?: TargetRole;
  /** Home directory (created and removed by us when absent). */
  home?: string;
  /** identity.secret to install in a new home (text form with the private key). */
  identitySecret?: string;
  /** Extra `ztroot root` flags (e.g. ['--native-udp', 'off']). */
  args?: string[];
  /** Token for /metrics and /peers (passed with --metrics-token). */
  metricsToken?: string;
  /** Pass no --metrics-token: the root makes metricstoken.secret in its home, read after start. */
  tokenFromHome?: boolean;
  /** Run the root under `bash -c`, after these shell commands (e.g. 'ulimit -n 64'). */
  shellPrefix?: string;
  /** A command that execs the rest (e.g. ['unshare', '--mount', '--propagation', 'private']); the root keeps its PID. */
  wrapper?: string[];
  /** Files to write into a new home (relative path → bytes), e.g. a moon under moons.d/. */
  files?: Record<string, Uint8Array>;
  env?: NodeJS.ProcessEnv;
}

/** Roots this process started and has not seen exit: killed if this process ends first. */
const live = new Set<ChildProcess>();
let handlersInstalled = false;
function killLive(): void {
  for (const c of live) c.kill('SIGKILL');
}
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killLive);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killLive();
      process.exit(130);
    });
  }
}

export interface LogLine { level?: string; msg?: string; [k: string]: unknown }

/** A running `ztroot root` (or leaf, or controller) child. */
export class RootTarget {
  readonly child: ChildProcess;
  readonly home: string;
  readonly role: TargetRole;
  metricsToken: string;
  /** authtoken.secret, read from the home once the node has started. */
  authToken = '';
  private readonly ownsHome: boolean;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  udp: { host: string; port: number } = { host: '127.0.0.1', port: 0 };
  http = '';

  private constructor(child: ChildProcess, home: string, ownsHome: boolean, token: string, role: TargetRole) {
    this.child = child;
    this.role = role;
    this.home = home;
    this.ownsHome = ownsHome;
    this.metricsToken = token;
    child.stdout!.setEncoding('utf8').on('data', (t: string) => { this.stdout += t; });
    child.stderr!.setEncoding('utf8').on('data', (t: string) => { this.stderr += t; });
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }

  static async spawn(o: SpawnOptions = {}): Promise<RootTarget> {
    const ownsHome = o.home === undefined;
    const home = o.home ?? mkdtempSync(join(tmpdir(), 'ztroot-fuzz-'));
    mkdirSync(join(home, 'moons.d'), { recursive: true });
    if (o.identitySecret) writeFileSync(join(home, 'identity.secret'), o.identitySecret, { mode: 0o600 });
    for (const [path, bytes] of Object.entries(o.files ?? {})) writeFileSync(join(home, path), bytes);
    const role = o.role ?? 'root';
    const tokenFromHome = o.tokenFromHome === true || role !== 'root';
    const token = o.metricsToken ?? 'fuzz0metrics0token0000000';
    const args = [ZTROOT_BIN, role, '--home', home, '--bind', '127.0.0.1', '--port', '0', '--http', '127.0.0.1:0',
      ...(tokenFromHome ? [] : ['--metrics-token', token]), ...(o.args ?? [])];
    const command = o.shellPrefix ? ['bash', '-c', `${o.shellPrefix}; exec "$0" "$@"`, process.execPath, ...args] : [process.execPath, ...args];
    const [file, ...rest] = [...(o.wrapper ?? []), ...command];
    const child = spawn(file, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
    installExitHandlers();
    live.add(child);
    child.once('exit', () => live.delete(child));
    const t = new RootTarget(child, home, ownsHome, token, role);
    await t.waitFor(() => /is running/.test(t.stdout) && t.logLines('http listening').length > 0, 'the start-up banner', START_TIMEOUT_MS);
    const started = t.logLines(`${role} started`)[0];
    const [host, port] = String((started.udp as string[])[0]).split('/');
    t.udp = { host, port: Number(port) };
    t.http = String(t.logLines('http listening')[0].address);
    if (tokenFromHome) t.metricsToken = readFileSync(join(home, 'metricstoken.secret'), 'utf8').trim();
    // a home mounted in the child's own mount namespace is not seen from here
    if (existsSync(join(home, 'authtoken.secret'))) t.authToken = readFileSync(join(home, 'authtoken.secret'), 'utf8').trim();
    return t;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (!this.running) throw new Error(`ztroot ${this.role} exited while waiting for ${what}\n${this.stderr.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Every complete JSON log line on stderr (optionally only those with this msg). */
  logLines(msg?: string): LogLine[] {
    const out: LogLine[] = [];
    for (const l of this.stderr.split('\n').slice(0, -1)) {
      if (!l.startsWith('{')) continue;
      try {
        const j = JSON.parse(l) as LogLine;
        if (msg === undefined || j.msg === msg) out.push(j);
      } catch { /* not JSON */ }
    }
    return out;
  }

  /**
   * Problems in the log: lines at error level, and anything on stderr that is not a JSON log
   * line (an uncaught exception's stack, a Node warning).
   */
  logProblems(): string[] {
    const out: string[] = [];
    for (const l of this.stderr.split('\n')) {
      if (l.trim() === '') continue;
      let j: LogLine | undefined;
      try { j = JSON.parse(l) as LogLine; } catch { /* not JSON */ }
      if (!j || typeof j !== 'object') out.push(l);
      else if (j.level === 'error') out.push(l);
    }
    return out;
  }

  rssBytes(): number {
    return this.running ? processRssBytes(this.pid) : Number.NaN;
  }

  metrics(): Promise<Sample[]> {
    return scrapeMetrics(`http://${this.http}/metrics`, this.metricsToken);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  /** Stop (if running) and remove the home when we made it. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.ownsHome) rmSync(this.home, { recursive: true, force: true });
  }
}

/** Drop counters by reason, from a scrape. */
export function dropsByReason(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === 'ztroot_drops_total' && s.value > 0) out[s.labels.reason] = (out[s.labels.reason] ?? 0) + s.value;
  return out;
}

export function counter(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return sumOf(samples, name, labels);
}
