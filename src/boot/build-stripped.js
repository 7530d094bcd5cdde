#!/usr/bin/env node
// Strips the types from every TypeScript module a ztroot process may load and writes the
// JavaScript into the cache that src/boot/stripped-sources.js serves. Run by `npm ci` and by the
// container build; a ztroot process also runs it once when it meets a module without a copy.
// Never fails: without the cache, Node strips the modules itself.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { basename, join } from 'node:path';
import { repoDir, SOURCE_DIRS, strippedCacheDir, strippedPath } from './stripped-cache.js';

function* typeScriptFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') yield* typeScriptFiles(path);
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield path;
  }
}

try {
  mkdirSync(strippedCacheDir, { recursive: true });
  const wanted = new Set();
  for (const dir of SOURCE_DIRS) {
    for (const file of typeScriptFiles(join(repoDir, dir))) {
      const source = readFileSync(file, 'utf8');
      const target = strippedPath(source);
      wanted.add(basename(target));
      if (existsSync(target)) continue;
      let stripped;
      try {
        stripped = stripTypeScriptTypes(source, { mode: 'strip' });
      } catch {
        continue; // not valid TypeScript (being edited?): Node reports it when the module loads
      }
      const temp = `${target}.${process.pid}.tmp`;
      writeFileSync(temp, stripped);
      renameSync(temp, target);
    }
  }
  for (const name of readdirSync(strippedCacheDir)) {
    if (!wanted.has(name) && !name.endsWith('.tmp')) rmSync(join(strippedCacheDir, name), { force: true });
  }
} catch (e) {
  process.stderr.write(`stripped sources not cached (${e instanceof Error ? e.message : String(e)}); Node strips them at load\n`);
}
