// Network-namespace lab: namespaces, veth pairs, a bridge, addresses, routes and a home-router
// NAT, plus processes started inside the namespaces. Everything is created inside namespaces
// this lab owns (veth pairs are created directly in them), so the host's own interfaces, routes
// and firewall are never touched. destroy() ends the lab's processes and deletes its namespaces.
//
// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), iproute2 and iptables.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Every external command gets this long before it is treated as hung. */
const COMMAND_TIMEOUT_MS = 10_000;
/** How long a lab process gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 3_000;

export class LabError extends Error {}

/** Run a command and return its stdout; throws LabError with its stderr when it fails. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, input });
  if (r.error) throw new LabError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new LabError(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Whether namespace labs can run here: as root, with iptables installed and `ip` able to
 * create a namespace. Returns the reason when they cannot.
 */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (it creates network namespaces)';
  if (spawnSync('sh', ['-c', 'command -v iptables']).status !== 0) return 'iptables not installed (Debian package iptables)';
  const probe = `ztprobe-${randomBytes(4).toString('hex')}`;
  try {
    run('ip', ['netns', 'add', probe]);
  } catch (e) {
    return `\`ip netns add\` failed (Debian package iproute2): ${(e as Error).message}`;
  }
  try {
    run('ip', ['netns', 'del', probe]);
  } catch { /* best effort */ }
  return undefined;
}

/** One end of a veth pair: the namespace it lives in and its interface name (≤ 15 characters). */
export interface LinkEnd {
  ns: string;
  ifname: string;
}

export class NetnsLab {
  /** Random suffix shared by every namespace of this lab, so parallel labs never collide. */
  readonly id = randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  /** Create namespace `zt<role>-<id>` with its loopback up; returns its name. */
  namespace(role: string): string {
    const name = `zt${role}-${this.id}`;
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    this.ip(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** `ip -n NS …` */
  ip(ns: string, ...args: string[]): string {
    return run('ip', ['-n', ns, ...args]);
  }

  /** A command run inside a namespace; returns stdout. */
  exec(ns: string, cmd: string, args: readonly string[], input?: string): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  /** iptables inside a namespace. */
  iptables(ns: string, ...args: string[]): string {
    return this.exec(ns, 'iptables', ['-w', '5', ...args]);
  }

  /** A veth pair created directly between two lab namespaces (never in the host's). */
  veth(a: LinkEnd, b: LinkEnd): void {
    this.ip(a.ns, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns);
  }

  /** A bridge (switch) inside a namespace, up. */
  bridge(ns: string, name: string): void {
    this.ip(ns, 'link', 'add', name, 'type', 'bridge');
    this.ip(ns, 'link', 'set', name, 'up');
  }

  /** Plug an interface into a bridge of the same namespace and bring it up. */
  attach(ns: string, ifname: string, bridge: string): void {
    this.ip(ns, 'link', 'set', ifname, 'master', bridge);
    this.ip(ns, 'link', 'set', ifname, 'up');
  }

  /** Give an interface an address ("198.18.0.1/24") and bring it up. */
  address(ns: string, ifname: string, cidr: string): void {
    this.ip(ns, 'addr', 'add', cidr, 'dev', ifname);
    this.ip(ns, 'link', 'set', ifname, 'up');
  }

  defaultRoute(ns: string, via: string): void {
    this.ip(ns, 'route', 'add', 'default', 'via', via);
  }

  /**
   * Make a namespace a home router: forward IPv4, masquerade everything leaving `wanIf`, and
   * refuse unsolicited packets arriving on `wanIf` for the router itself. The last rule matters:
   * without it a hole-punching packet that arrives before our own outbound one leaves a
   * conntrack entry on the router, our packet then gets a new source port and the NAT behaves
   * as a symmetric NAT (see LAB-NOTES.md).
   */
  natRouter(ns: string, wanIf: string): void {
    this.exec(ns, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    this.iptables(ns, '-t', 'nat', '-A', 'POSTROUTING', '-o', wanIf, '-j', 'MASQUERADE');
    this.iptables(ns, '-A', 'INPUT', '-i', wanIf, '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP');
  }

  /**
   * A rule without a target in a chain of the filter table: it only counts. The comment names
   * it for packetCount().
   */
  countingRule(ns: string, chain: string, name: string, match: readonly string[]): void {
    this.iptables(ns, '-A', chain, ...match, '-m', 'comment', '--comment', name);
  }

  /** Packets a counting rule has seen so far. */
  packetCount(ns: string, chain: string, name: string): number {
    const out = this.iptables(ns, '-L', chain, '-v', '-x', '-n');
    for (const line of out.split('\n')) {
      if (line.includes(`/* ${name} */`)) return Number(line.trim().split(/\s+/)[0]);
    }
    throw new LabError(`no counting rule "${name}" in ${ns} ${chain}`);
  }

  /** Start a long-running process inside a namespace (stdio piped); destroy() ends it. */
  spawn(ns: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
    // `ip netns exec` execs the command, so the child's PID is the command's own.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * End every process this lab started (SIGTERM, then SIGKILL), then delete its namespaces.
   * Returns what went wrong, including any namespace of this lab still there afterwards.
   */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all([...this.children].map((c) => stopChild(c)));
    for (const ns of this.namespaces) {
      // Anything still running in our namespaces was started by this lab (e.g. a grandchild).
      try {
        for (const pid of run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
        }
      } catch { /* namespace may be gone */ }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    for (const ns of this.remainingNamespaces()) problems.push(`namespace ${ns} still exists`);
    return problems;
  }

  /** Names of the namespaces that currently exist for this lab (for the cleanup check). */
  remainingNamespaces(): string[] {
    return run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.endsWith(`-${this.id}`));
  }
}

/** SIGTERM a child, SIGKILL it if it has not exited after the grace period. */
export function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try { child.kill('SIGTERM'); } catch { /* gone */ }
  });
}
