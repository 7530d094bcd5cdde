// Docker plumbing for the container tests: engine and base image readiness (through
// tools/containers/setup.sh), the docker CLI with bounded waits, a throwaway build context with
// an offline npm cache (no registry is reachable from inside image builds here), and networks
// addressed from 198.18.0.0/15 (benchmarking space, never routed) so test traffic stays on
// Docker networks this test creates.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CommandResult { code: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { timeout: options.timeoutMs, env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) + (error && code === -1 ? `\n${error.message}` : '') });
      });
  });
}

export async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run('docker', args, { timeoutMs });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

export interface DockerReadiness { ready: boolean; reason: string; seconds: number }

/**
 * Run tools/containers/setup.sh (install/start dockerd if needed, stand-in base image if missing).
 * Exit 2 means no engine can be had on this machine: the container tests skip. Any other
 * failure is a real failure.
 */
export async function ensureDocker(): Promise<DockerReadiness> {
  const started = Date.now();
  const r = await run('bash', [join(REPO, 'tools/containers/setup.sh')], { timeoutMs: 10 * 60_000 });
  const seconds = (Date.now() - started) / 1000;
  if (r.code === 0) return { ready: true, reason: r.stderr.trim(), seconds };
  if (r.code === 2) {
    // setup.sh's last line says why: "containers/setup: no Docker engine: ..."
    const why = r.stderr.trim().split('\n').pop()?.replace(/^containers\/setup: /, '');
    return { ready: false, reason: why || 'no Docker engine', seconds };
  }
  throw new Error(`tools/containers/setup.sh failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** A build context holding only what deploy/Dockerfile copies, plus an offline npm cache. */
export async function makeBuildContext(): Promise<string> {
  const ctx = mkdtempSync(join(tmpdir(), 'ztroot-image-'));
  for (const f of ['package.json', 'package-lock.json', 'bin', 'src', 'deploy/Dockerfile', 'deploy/docker-entrypoint.ts', 'native/binding.gyp', 'native/build.sh', 'native/src']) {
    mkdirSync(dirname(join(ctx, f)), { recursive: true });
    cpSync(join(REPO, f), join(ctx, f), { recursive: true });
  }
  const r = await run('bash', [join(REPO, 'tools/containers/npm-offline-cache.sh'), join(ctx, 'deploy/npm-offline')], { timeoutMs: 5 * 60_000 });
  if (r.code !== 0) throw new Error(`npm-offline-cache.sh failed: ${r.stderr}`);
  return ctx;
}

/** Intermediate stages of deploy/Dockerfile, tagged `<tag>-<stage>` so they can be removed. */
const STAGES = ['deps', 'native'] as const;

/** --build-arg for the images setup.sh provides, when the environment names other ones. */
function baseImageArgs(): string[] {
  const args: string[] = [];
  if (process.env.ZTROOT_BASE_IMAGE) args.push('--build-arg', `BASE_IMAGE=${process.env.ZTROOT_BASE_IMAGE}`);
  if (process.env.ZTROOT_BUILDER_IMAGE) args.push('--build-arg', `BUILDER_IMAGE=${process.env.ZTROOT_BUILDER_IMAGE}`);
  return args;
}

/**
 * Build deploy/Dockerfile as `tag` (its deps and native stages as `tag`-deps and `tag`-native, so
 * all can be removed afterwards without touching other images). Failed builds leave no
 * containers (--force-rm). Returns the output of the native stage's build (what node-gyp said).
 */
export async function buildImage(tag: string): Promise<{ nativeLog: string }> {
  const ctx = await makeBuildContext();
  let nativeLog = '';
  try {
    for (const [target, name] of [...STAGES.map((s) => [s, `${tag}-${s}`] as const), [undefined, tag] as const]) {
      const args = ['build', '--force-rm', '-f', join(ctx, 'deploy/Dockerfile'), '-t', name, ...baseImageArgs(), ...(target ? ['--target', target] : []), ctx];
      const r = await run('docker', args, { timeoutMs: 5 * 60_000, env: { ...process.env, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' } });
      if (r.code !== 0) throw new Error(`docker build failed (${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
      if (target === 'native') {
        const out = r.stdout + r.stderr;
        nativeLog = out.slice(Math.max(0, out.indexOf(' AS native')));
      }
    }
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return { nativeLog };
}

export async function removeImage(tag: string): Promise<void> {
  await run('docker', ['rmi', '-f', tag, ...STAGES.map((s) => `${tag}-${s}`)], { timeoutMs: 60_000 });
}

export interface TestNetwork { name: string; subnet: string; gateway: string; ip(host: number): string }

/** A bridge network on a /24 of 198.19.0.0/16; the host is its gateway (.1). */
export async function createNetwork(name: string): Promise<TestNetwork> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const third = 100 + Math.floor(Math.random() * 150);
    const prefix = `198.19.${third}`;
    try {
      await docker(['network', 'create', '--driver', 'bridge', '--subnet', `${prefix}.0/24`, '--gateway', `${prefix}.1`, '--label', 'ztroot.test=1', name]);
      return { name, subnet: `${prefix}.0/24`, gateway: `${prefix}.1`, ip: (h) => `${prefix}.${h}` };
    } catch (e) {
      lastError = e; // most likely the /24 overlaps another network: try another
    }
  }
  throw lastError;
}

export async function inspectHealth(container: string): Promise<{ status: string; running: boolean; exitCode: number }> {
  const out = await docker(['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Running}} {{.State.ExitCode}}', container]);
  const [status, running, exitCode] = out.split(' ');
  return { status, running: running === 'true', exitCode: Number(exitCode) };
}
