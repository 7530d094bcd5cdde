// The persistent identity cache: every identity that passed validation, keyed by address.
// SQLite (node:sqlite, WAL journal) is the authority on disk, so a restart — even after
// kill -9 — answers WHOIS for every identity it ever accepted without validating it again;
// a bounded LRU in front keeps hot identities out of SQLite.
//
// Only validated identities are ever stored: callers validate first (memory-hard hash).
//
// The number of rows is kept in a one-row side table that SQLite triggers update in the same
// transaction as each insert or delete, so opening a store reads one row instead of counting a
// table of millions (every packet worker opens its own store at start). A cache written by an
// older version, without the side table, is migrated once: the table and triggers are created
// and filled with COUNT(*) in one write transaction.

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

/**
 * Each thread's in-memory identities (about 400 bytes each). A miss costs one indexed SQLite read,
 * a few microseconds; 100,000 per thread held ~40 MiB per packet thread at 1M peers for little.
 */
export const DEFAULT_IDENTITY_CACHE_ENTRIES = 16_384;

/** One row (id 0) holding the number of rows in `identities`, kept by triggers. */
const ROW_COUNT_TABLE = 'identity_count';

export class IdentityStore {
  private readonly db: DatabaseSync;
  private readonly lru: LRUCache<Address, Identity>;
  private readonly selectOne: StatementSync;
  private readonly insertOne: StatementSync;
  private count: number;

  /** Open (creating if needed) the store at `path`; ':memory:' for tests. */
  constructor(path: string, options: IdentityStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
    `);
    if (!this.hasTable(ROW_COUNT_TABLE)) this.createSchema();
    this.selectOne = this.db.prepare('SELECT identity FROM identities WHERE address = ?');
    this.insertOne = this.db.prepare('INSERT OR IGNORE INTO identities (address, identity, added_ms) VALUES (?, ?, ?)');
    this.count = Number((this.db.prepare(`SELECT n FROM ${ROW_COUNT_TABLE} WHERE id = 0`).get() as { n: number | bigint }).n);
    this.lru = new LRUCache({ max: options.cacheEntries ?? DEFAULT_IDENTITY_CACHE_ENTRIES });
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  /**
   * Create whatever is missing of the schema — a new cache, or one from a version without the
   * row count — in one write transaction. Several threads may open the same file at once: the
   * IF NOT EXISTS clauses make the second one a no-op once it gets the write lock.
   */
  private createSchema(): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS identities (
          address INTEGER PRIMARY KEY,
          identity BLOB NOT NULL,
          added_ms INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${ROW_COUNT_TABLE} (
          id INTEGER PRIMARY KEY CHECK (id = 0),
          n INTEGER NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS identities_counted_insert AFTER INSERT ON identities
          BEGIN UPDATE ${ROW_COUNT_TABLE} SET n = n + 1 WHERE id = 0; END;
        CREATE TRIGGER IF NOT EXISTS identities_counted_delete AFTER DELETE ON identities
          BEGIN UPDATE ${ROW_COUNT_TABLE} SET n = n - 1 WHERE id = 0; END;
        INSERT OR IGNORE INTO ${ROW_COUNT_TABLE} (id, n) SELECT 0, COUNT(*) FROM identities;
      `);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Number of identities on disk (as of opening, plus what this store added since). */
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
    // changes is 0 if the row was already there (another writer), and never counts trigger updates
    this.count += Number(this.insertOne.run(identity.address, pub.serialize(), nowMs).changes);
    this.lru.set(identity.address, pub);
    return 'added';
  }

  close(): void {
    this.db.close();
  }
}
