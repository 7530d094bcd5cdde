// The driving side of leaf-runner.ts: send JSON-line commands to a leaf process and wait for
// its events. Every wait has a deadline and names what it waited for when it runs out, with
// the leaf's recent output, so a failing lab test says where it got stuck.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LeafEvent = { event: string; [key: string]: unknown };

interface Waiter {
  match: (e: LeafEvent) => boolean;
  resolve: (e: LeafEvent) => void;
}

/** Lines of stderr kept for error messages. */
const STDERR_TAIL_LINES = 20;

export class LeafClient {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every event received so far, in order. */
  readonly events: LeafEvent[] = [];
  private readonly stderrTail: string[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;
  private exited: string | undefined;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    child.once('exit', (code, signal) => { this.exited = `exited with ${code ?? signal}`; });
  }

  private onLine(line: string): void {
    let e: LeafEvent;
    try {
      e = JSON.parse(line) as LeafEvent;
    } catch {
      this.stderrTail.push(`(stdout) ${line}`);
      return;
    }
    this.events.push(e);
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.match(e)) w.resolve(e);
      else still.push(w);
    }
    this.waiters = still;
  }

  /**
   * The first event (already received or still to come) that matches; rejects after timeoutMs.
   * `since` skips events received before that index of `events`.
   */
  waitFor(what: string, match: (e: LeafEvent) => boolean, timeoutMs: number, since = 0): Promise<LeafEvent> {
    const seen = this.events.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.exited ? ` (leaf ${this.exited})` : ''}\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Send a command and wait for the event answering it (matched by id). */
  request(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<LeafEvent> {
    const id = this.nextId++;
    const since = this.events.length;
    this.child.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
    return this.waitFor(`answer to ${JSON.stringify(cmd)}`, (e) => e.id === id, timeoutMs, since);
  }

  /** Recent events and stderr, for failure messages. */
  describe(): string {
    // answers to path polls would crowd out everything else
    const recent = this.events.filter((e) => e.event !== 'paths').slice(-15).map((e) => `  ${JSON.stringify(e)}`);
    const err = this.stderrTail.map((l) => `  stderr: ${l}`);
    return [`${this.name} recent events:`, ...recent, ...err].join('\n');
  }
}
