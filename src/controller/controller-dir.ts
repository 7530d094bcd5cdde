// zerotier-one's controller directory (controller.d, 07-network-config-controller.md §10 FileDB):
// network/<nwid:016x>.json and network/<nwid:016x>/member/<addr:010x>.json, compact JSON with
// sorted keys. Import reads it into our store unchanged (revisions included); export writes it
// back, so an operator moves between zerotier-one and ztroot, and backs up, with one command.

import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { isObject, stringifySorted, type Json, type JsonObject } from './json-values.ts';
import type { ControllerStore } from './store.ts';
import { hex64 } from '../util/hex.ts';

/** FileDB loads only names of exactly this form. */
const NETWORK_FILE = /^[0-9a-fA-F]{16}\.json$/;
const MEMBER_FILE = /^[0-9a-fA-F]{10}\.json$/;

export interface ImportResult { networks: number; members: number; skipped: string[] }

function readJson(path: string): JsonObject | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Json;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function importControllerDir(dir: string, store: ControllerStore): ImportResult {
  const skipped: string[] = [];
  const networks: JsonObject[] = [], members: JsonObject[] = [];
  const networkDir = join(dir, 'network');
  for (const name of list(networkDir).sort()) {
    if (!NETWORK_FILE.test(name)) continue;
    const path = join(networkDir, name);
    const n = readJson(path);
    if (!n || n.objtype !== 'network' || typeof n.id !== 'string') { skipped.push(path); continue; }
    networks.push(n);
    const memberDir = join(networkDir, name.slice(0, 16), 'member');
    for (const m of list(memberDir).sort()) {
      if (!MEMBER_FILE.test(m)) continue;
      const mpath = join(memberDir, m);
      const rec = readJson(mpath);
      if (!rec || rec.objtype !== 'member' || typeof rec.id !== 'string' || typeof rec.nwid !== 'string') { skipped.push(mpath); continue; }
      members.push(rec);
    }
  }
  const r = store.importRecords(networks, members);
  return { networks: r.networks, members: r.members, skipped };
}

export function exportControllerDir(store: ControllerStore, dir: string): { networks: number; members: number } {
  let nm = 0;
  const ids = store.networkIds();
  for (const nwid of ids) {
    const id = hex64(nwid);
    const memberDir = join(dir, 'network', id, 'member');
    mkdirSync(memberDir, { recursive: true });
    writeFileAtomic(join(dir, 'network', `${id}.json`), stringifySorted(store.network(nwid)!));
    for (const m of store.members(nwid)) {
      writeFileAtomic(join(memberDir, `${m.id as string}.json`), stringifySorted(m));
      nm++;
    }
  }
  return { networks: ids.length, members: nm };
}
