// The persistent identity cache: every identity that passed validation, keyed by address.
// SQLite (node:sqlite, WAL journal) is the authority on disk, so a restart — even after
// kill -9 — answers WHOIS for every identity it ever accepted without validating it again;
// a bounded LRU in front keeps hot identities out of SQLite.
//
// Only validated identities are ever stored: callers validate first (memory-hard hash).

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { LRUCache } from 'lru-cache';
import { deserializeIdentity, type Identity } from '../identity/identity.ts';
import type { Address } from '../identity/address.ts';

export type PutResult = 'added' | 'known' | 'collision';

export interface IdentityStoreOptions {
  /** Entries kept in memory in front of SQLite. */
  cacheEntries?: number;
}

export const DEFAULT_IDENTITY_CACHE_ENTRIES = 100_000;

export class IdentityStore {
  private readonly db: DatabaseSync;
  private readonly lru: LRUCache<Address, Identity>;
  private readonly selectOne: StatementSync;
  private readonly insertOne: StatementSync;
  private readonly countAll: StatementSync;
  private count: number;

  /** Open (creating if needed) the store at `path`; ':memory:' for tests. */
  constructor(path: string, options: IdentityStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS identities (
        address INTEGER PRIMARY KEY,
        identity BLOB NOT NULL,
        added_ms INTEGER NOT NULL
      );
    `);
    this.selectOne = this.db.prepare('SELECT identity FROM identities WHERE address = ?');
    this.insertOne = this.db.prepare('INSERT OR IGNORE INTO identities (address, identity, added_ms) VALUES (?, ?, ?)');
    this.countAll = this.db.prepare('SELECT COUNT(*) AS n FROM identities');
    this.count = Number((this.countAll.get() as { n: number | bigint }).n);
    this.lru = new LRUCache({ max: options.cacheEntries ?? DEFAULT_IDENTITY_CACHE_ENTRIES });
  }

  /** Number of identities on disk. */
  get size(): number {
    return this.count;
  }

  /** Identities currently held in memory. */
  get cachedSize(): number {
    return this.lru.size;
  }

  get(address: Address): Identity | undefined {
    const hit = this.lru.get(address);
    if (hit) return hit;
    const row = this.selectOne.get(address) as { identity: Uint8Array } | undefined;
    if (!row) return undefined;
    const decoded = deserializeIdentity(row.identity);
    if (typeof decoded === 'string') return undefined; // cannot happen for rows we wrote
    this.lru.set(address, decoded.identity);
    return decoded.identity;
  }

  /**
   * Record a validated identity. An address already held by a different key is a collision and
   * the first identity keeps it.
   */
  put(identity: Identity, nowMs = Date.now()): PutResult {
    const existing = this.get(identity.address);
    if (existing) return existing.equals(identity) ? 'known' : 'collision';
    const pub = identity.publicOnly();
    this.insertOne.run(identity.address, pub.serialize(), nowMs);
    this.count++;
    this.lru.set(identity.address, pub);
    return 'added';
  }

  close(): void {
    this.db.close();
  }
}
