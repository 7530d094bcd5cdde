// The identity cache's row count: kept by SQLite triggers in a one-row side table so that opening
// a store (the main thread and every packet worker) reads one row instead of counting the table.
// It must stay right across reopen, kill -9 (WAL not checkpointed), writes by other connections,
// and for caches written by versions without the side table (migrated once at open).

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Identity } from '../../src/identity/identity.ts';
import { IdentityStore } from '../../src/node/identity-store.ts';
import { tempDir } from '../support/cli.ts';
import { removeDirs } from '../support/root-harness.ts';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

function dbPath(): string {
  const dir = tempDir('ztroot-idstore-');
  dirs.push(dir);
  return join(dir, 'identities.db');
}

/** A synthetic identity (the store does not validate; callers do). */
function fakeIdentity(address: number): Identity {
  const key = new Uint8Array(64);
  for (let i = 0; i < 64; i++) key[i] = (address * 31 + i * 7) & 0xff;
  return new Identity(address, key);
}

/** What a raw connection sees: the real row count and the side table's. */
function counts(path: string): { rows: number; recorded: number | undefined } {
  const db = new DatabaseSync(path);
  try {
    const rows = Number((db.prepare('SELECT COUNT(*) AS n FROM identities').get() as { n: number }).n);
    const hasSide = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'identity_count'").get() !== undefined;
    const recorded = hasSide ? Number((db.prepare('SELECT n FROM identity_count WHERE id = 0').get() as { n: number }).n) : undefined;
    return { rows, recorded };
  } finally {
    db.close();
  }
}

describe('identity store row count', () => {
  it('counts inserts (not repeats or collisions) and reads the same count after reopening', () => {
    const path = dbPath();
    const store = new IdentityStore(path);
    expect(store.size).toBe(0);
    for (let a = 1; a <= 5; a++) expect(store.put(fakeIdentity(a))).toBe('added');
    expect(store.put(fakeIdentity(3))).toBe('known');
    expect(store.put(new Identity(4, new Uint8Array(64).fill(0xee)))).toBe('collision');
    expect(store.size).toBe(5);
    store.close();
    expect(store.size).toBe(5); // still readable after close (the 'root stopped' log line)
    expect(counts(path)).toEqual({ rows: 5, recorded: 5 });

    const again = new IdentityStore(path);
    expect(again.size).toBe(5);
    again.put(fakeIdentity(6));
    expect(again.size).toBe(6);
    again.close();
    expect(new IdentityStore(path).size).toBe(6);
  });

  it('takes the count from the side table at open instead of counting the rows', () => {
    const path = dbPath();
    const store = new IdentityStore(path);
    store.put(fakeIdentity(1));
    store.close();
    const db = new DatabaseSync(path);
    db.exec('UPDATE identity_count SET n = 4242 WHERE id = 0'); // a count only the side table holds
    db.close();
    const reopened = new IdentityStore(path);
    expect(reopened.size).toBe(4242);
    reopened.close();
  });

  it('keeps the count for rows written or deleted by other connections (loadgen seeds rows directly)', () => {
    const path = dbPath();
    const store = new IdentityStore(path);
    store.put(fakeIdentity(1));
    const db = new DatabaseSync(path);
    const insert = db.prepare('INSERT OR IGNORE INTO identities (address, identity, added_ms) VALUES (?, ?, ?)');
    db.exec('BEGIN');
    for (let a = 1; a <= 10; a++) insert.run(a, fakeIdentity(a).serialize(), 0); // address 1 is ignored
    db.exec('COMMIT');
    db.exec('DELETE FROM identities WHERE address IN (2, 3)');
    db.close();
    expect(counts(path)).toEqual({ rows: 8, recorded: 8 });
    store.close();
    expect(new IdentityStore(path).size).toBe(8);
  });

  it('migrates a cache made by a version without the side table, once, and counts on from there', () => {
    const path = dbPath();
    // the schema and journal mode of the previous version, 300 rows, no side table
    const old = new DatabaseSync(path);
    old.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE identities (address INTEGER PRIMARY KEY, identity BLOB NOT NULL, added_ms INTEGER NOT NULL);
    `);
    const insert = old.prepare('INSERT INTO identities (address, identity, added_ms) VALUES (?, ?, ?)');
    old.exec('BEGIN');
    for (let a = 1; a <= 300; a++) insert.run(a, fakeIdentity(a).serialize(), 0);
    old.exec('COMMIT');
    old.close();
    expect(counts(path)).toEqual({ rows: 300, recorded: undefined });

    const store = new IdentityStore(path);
    expect(store.size).toBe(300);
    expect(counts(path)).toEqual({ rows: 300, recorded: 300 });
    expect(store.get(150)?.equals(fakeIdentity(150))).toBe(true);
    store.put(fakeIdentity(301));
    expect(store.size).toBe(301);
    store.close();
    expect(counts(path)).toEqual({ rows: 301, recorded: 301 });
    expect(new IdentityStore(path).size).toBe(301);
  });

  it('opens a migrated cache without writing to it (packet workers only read)', () => {
    const path = dbPath();
    const main = new IdentityStore(path);
    main.put(fakeIdentity(1));
    const watcher = new DatabaseSync(path);
    const dataVersion = (): number => Number((watcher.prepare('PRAGMA data_version').get() as { data_version: number }).data_version);
    const before = dataVersion();
    const workerStore = new IdentityStore(path);
    expect(workerStore.size).toBe(1);
    expect(workerStore.get(1)?.equals(fakeIdentity(1))).toBe(true);
    workerStore.close();
    expect(dataVersion()).toBe(before); // no other connection committed anything
    main.put(fakeIdentity(2));
    expect(dataVersion()).not.toBe(before); // (the probe does see commits)
    watcher.close();
    main.close();
  });

  it('has the right count after the writer is killed with SIGKILL before a checkpoint', () => {
    const path = dbPath();
    const storeUrl = pathToFileURL(resolve(import.meta.dirname, '../../src/node/identity-store.ts')).href;
    const identityUrl = pathToFileURL(resolve(import.meta.dirname, '../../src/identity/identity.ts')).href;
    const script = `
      const { IdentityStore } = await import(${JSON.stringify(storeUrl)});
      const { Identity } = await import(${JSON.stringify(identityUrl)});
      const store = new IdentityStore(${JSON.stringify(path)});
      for (let a = 1; a <= 40; a++) store.put(new Identity(a, new Uint8Array(64).fill(a)));
      process.kill(process.pid, 'SIGKILL');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(`${path}-wal`) && statSync(`${path}-wal`).size).toBeGreaterThan(0); // left unmerged
    const store = new IdentityStore(path);
    expect(store.size).toBe(40);
    store.close();
    expect(counts(path)).toEqual({ rows: 40, recorded: 40 });
  });

  it('counts in an in-memory store', () => {
    const store = new IdentityStore(':memory:');
    store.put(fakeIdentity(1));
    store.put(fakeIdentity(2));
    expect(store.size).toBe(2);
    store.close();
  });
});
