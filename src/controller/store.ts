// The controller database: network and member records in SQLite (node:sqlite, WAL, synchronous
// FULL), so a save returns only once the record is on disk; every record is also held in memory,
// where requests and the API read it. One writer: the thread that owns the controller.
//
// Revisions as 1.14's FileDB keeps them: saving a record that differs from the stored one in
// anything but `revision` increments `revision`; saving an identical record writes nothing.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isObject, jsonBool, jsonEquals, jsonInt, type Json } from './json-values.ts';
import { ipFromText, ipText, type MemberRecord, type NetworkRecord } from './records.ts';
import { hex64 } from '../util/hex.ts';

/** What the config builder needs to know about a network's members without scanning them. */
export interface NetworkSummary {
  /** IPs (canonical text, no prefix) assigned to any member, with how many members hold each. */
  readonly allocatedIps: Map<string, number>;
  /** Addresses of active bridges. */
  readonly activeBridges: Set<number>;
  authorizedCount: number;
}

interface NetworkEntry {
  record: NetworkRecord;
  members: Map<number, MemberRecord>;
  summary: NetworkSummary;
}

export interface SaveResult<T> {
  /** The record as stored (with its new revision). */
  readonly record: T;
  /** The record before, if there was one. */
  readonly old: T | undefined;
  /** Something other than the revision changed, so it was written. */
  readonly changed: boolean;
}

function differsIgnoringRevision(a: Json, b: Json): boolean {
  if (!isObject(a) || !isObject(b)) return true;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return true;
  for (const k of ka) {
    if (k === 'revision') continue;
    if (!Object.hasOwn(b, k) || !jsonEquals(a[k], b[k])) return true;
  }
  return false;
}

function parseHexId(v: Json | undefined): bigint {
  return typeof v === 'string' && /^[0-9a-fA-F]{1,16}$/.test(v) ? BigInt('0x' + v) : 0n;
}

export class ControllerStore {
  private readonly db: DatabaseSync;
  private readonly networksById = new Map<bigint, NetworkEntry>();
  private readonly upsertNetwork: StatementSync;
  private readonly upsertMember: StatementSync;
  private readonly deleteMemberRow: StatementSync;
  private readonly deleteNetworkRow: StatementSync;
  private readonly deleteNetworkMembers: StatementSync;

  /** Open (creating if needed) the database at `path`; ':memory:' for tests. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS networks (nwid TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS members (
        nwid TEXT NOT NULL, address TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (nwid, address)
      );
    `);
    this.upsertNetwork = this.db.prepare('INSERT INTO networks (nwid, record) VALUES (?, ?) ON CONFLICT (nwid) DO UPDATE SET record = excluded.record');
    this.upsertMember = this.db.prepare('INSERT INTO members (nwid, address, record) VALUES (?, ?, ?) ON CONFLICT (nwid, address) DO UPDATE SET record = excluded.record');
    this.deleteMemberRow = this.db.prepare('DELETE FROM members WHERE nwid = ? AND address = ?');
    this.deleteNetworkRow = this.db.prepare('DELETE FROM networks WHERE nwid = ?');
    this.deleteNetworkMembers = this.db.prepare('DELETE FROM members WHERE nwid = ?');
    this.load();
  }

  private load(): void {
    for (const row of this.db.prepare('SELECT nwid, record FROM networks').all() as { nwid: string; record: string }[]) {
      const record = JSON.parse(row.record) as NetworkRecord;
      this.networksById.set(BigInt('0x' + row.nwid), { record, members: new Map(), summary: emptySummary() });
    }
    for (const row of this.db.prepare('SELECT nwid, address, record FROM members').all() as { nwid: string; address: string; record: string }[]) {
      const entry = this.networksById.get(BigInt('0x' + row.nwid));
      if (!entry) continue;
      const record = JSON.parse(row.record) as MemberRecord;
      const address = Number.parseInt(row.address, 16);
      entry.members.set(address, record);
      addToSummary(entry.summary, record);
    }
  }

  close(): void {
    this.db.close();
  }

  /** Network IDs in ascending order. */
  networkIds(): bigint[] {
    return [...this.networksById.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  hasNetwork(nwid: bigint): boolean {
    return this.networksById.has(nwid);
  }

  /** The stored record: read it, do not change it (copy with structuredClone to edit). */
  network(nwid: bigint): NetworkRecord | undefined {
    return this.networksById.get(nwid)?.record;
  }

  member(nwid: bigint, address: number): MemberRecord | undefined {
    return this.networksById.get(nwid)?.members.get(address);
  }

  members(nwid: bigint): MemberRecord[] {
    return [...(this.networksById.get(nwid)?.members.values() ?? [])];
  }

  memberCount(nwid: bigint): number {
    return this.networksById.get(nwid)?.members.size ?? 0;
  }

  summary(nwid: bigint): NetworkSummary | undefined {
    return this.networksById.get(nwid)?.summary;
  }

  /** Save a network record (its `id` names it); the revision is bumped if anything changed. */
  saveNetwork(record: NetworkRecord): SaveResult<NetworkRecord> {
    const nwid = parseHexId(record.id);
    if (nwid === 0n) throw new Error('network record without a valid id');
    const entry = this.networksById.get(nwid);
    const old = entry?.record;
    if (old && !differsIgnoringRevision(old, record)) return { record: old, old, changed: false };
    const saved: NetworkRecord = { ...record, revision: jsonInt(record.revision, 0) + 1 };
    this.upsertNetwork.run(hex64(nwid), JSON.stringify(saved));
    if (entry) entry.record = saved;
    else this.networksById.set(nwid, { record: saved, members: new Map(), summary: emptySummary() });
    return { record: saved, old, changed: true };
  }

  /** Save a member record (`nwid` and `id` name it; the network must exist). */
  saveMember(record: MemberRecord): SaveResult<MemberRecord> {
    const nwid = parseHexId(record.nwid);
    const address = Number(parseHexId(record.id));
    const entry = this.networksById.get(nwid);
    if (!entry || address === 0) throw new Error('member record for an unknown network or without a valid id');
    const old = entry.members.get(address);
    if (old && !differsIgnoringRevision(old, record)) return { record: old, old, changed: false };
    const saved: MemberRecord = { ...record, revision: jsonInt(record.revision, 0) + 1 };
    this.upsertMember.run(hex64(nwid), saved.id as string, JSON.stringify(saved));
    if (old) removeFromSummary(entry.summary, old);
    entry.members.set(address, saved);
    addToSummary(entry.summary, saved);
    return { record: saved, old, changed: true };
  }

  /** Delete a network and its members in one transaction; returns the old record. */
  deleteNetwork(nwid: bigint): NetworkRecord | undefined {
    const entry = this.networksById.get(nwid);
    if (!entry) return undefined;
    const id = hex64(nwid);
    this.transaction(() => {
      this.deleteNetworkMembers.run(id);
      this.deleteNetworkRow.run(id);
    });
    this.networksById.delete(nwid);
    return entry.record;
  }

  deleteMember(nwid: bigint, address: number): MemberRecord | undefined {
    const entry = this.networksById.get(nwid);
    const old = entry?.members.get(address);
    if (!entry || !old) return undefined;
    this.deleteMemberRow.run(hex64(nwid), old.id as string);
    entry.members.delete(address);
    removeFromSummary(entry.summary, old);
    return old;
  }

  /**
   * Store records exactly as given (revision included), for import: networks first, then their
   * members; one transaction. Records without a valid id, or members of networks not given or
   * stored, are skipped and counted.
   */
  importRecords(networks: NetworkRecord[], members: MemberRecord[]): { networks: number; members: number; skipped: number } {
    let skipped = 0, nn = 0, nm = 0;
    this.transaction(() => {
      for (const record of networks) {
        const nwid = parseHexId(record.id);
        if (nwid === 0n) { skipped++; continue; }
        this.upsertNetwork.run(hex64(nwid), JSON.stringify(record));
        const entry = this.networksById.get(nwid);
        if (entry) entry.record = record;
        else this.networksById.set(nwid, { record, members: new Map(), summary: emptySummary() });
        nn++;
      }
      for (const record of members) {
        const entry = this.networksById.get(parseHexId(record.nwid));
        const address = Number(parseHexId(record.id));
        if (!entry || address === 0 || address > 0xff_ffff_ffff) { skipped++; continue; }
        this.upsertMember.run(hex64(parseHexId(record.nwid)), address.toString(16).padStart(10, '0'), JSON.stringify(record));
        const old = entry.members.get(address);
        if (old) removeFromSummary(entry.summary, old);
        entry.members.set(address, record);
        addToSummary(entry.summary, record);
        nm++;
      }
    });
    return { networks: nn, members: nm, skipped };
  }

  /** Run `fn` in one write transaction (import writes many records at once). */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }
}

function emptySummary(): NetworkSummary {
  return { allocatedIps: new Map(), activeBridges: new Set(), authorizedCount: 0 };
}

function memberIps(m: MemberRecord): string[] {
  const ips = m.ipAssignments;
  if (!Array.isArray(ips)) return [];
  return ips.filter((v): v is string => typeof v === 'string').map((v) => ipText(ipFromText(v))).filter((v) => v !== '');
}

function addToSummary(s: NetworkSummary, m: MemberRecord): void {
  for (const ip of memberIps(m)) s.allocatedIps.set(ip, (s.allocatedIps.get(ip) ?? 0) + 1);
  if (jsonBool(m.activeBridge, false)) s.activeBridges.add(Number(parseHexId(m.id)));
  if (jsonBool(m.authorized, false)) s.authorizedCount++;
}

function removeFromSummary(s: NetworkSummary, m: MemberRecord): void {
  for (const ip of memberIps(m)) {
    const n = (s.allocatedIps.get(ip) ?? 0) - 1;
    if (n > 0) s.allocatedIps.set(ip, n);
    else s.allocatedIps.delete(ip);
  }
  if (jsonBool(m.activeBridge, false)) s.activeBridges.delete(Number(parseHexId(m.id)));
  if (jsonBool(m.authorized, false)) s.authorizedCount--;
}
