// Self time per function from the .cpuprofile files `node --cpu-prof` writes (one per thread),
// for a quick look at what limits a run without opening a profiler.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalSeconds: number;
  top: { share: number; where: string }[];
}

export function summarizeProfile(path: string, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const selfMicros = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfMicros.set(p.samples[i], (selfMicros.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const t = selfMicros.get(n.id) ?? 0;
    total += t;
    const file = n.callFrame.url.split('/').slice(-2).join('/');
    const where = `${n.callFrame.functionName || '(anonymous)'}${file ? ` ${file}:${n.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + t);
  }
  return {
    file: path,
    totalSeconds: total / 1e6,
    top: [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top).map(([where, t]) => ({ share: total ? t / total : 0, where })),
  };
}

/** Every profile in a directory, busiest first. */
export function summarizeProfiles(dir: string, top = 12): ProfileSummary[] {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summarizeProfile(join(dir, f), top))
    .sort((a, b) => b.totalSeconds - a.totalSeconds);
}

export function formatProfileSummary(s: ProfileSummary): string {
  return [`${s.file} (${s.totalSeconds.toFixed(1)} s sampled)`, ...s.top.map((t) => `  ${(100 * t.share).toFixed(1).padStart(5)} %  ${t.where}`)].join('\n');
}
