// A fresh clone stands on its own: nothing in the repository may read or point at a `shared`
// folder beside it. The reference data the tests need is in test/fixtures/zerotier-1.14.1/.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);

/** Strings that point outside the repository, at the workspace's shared folder. */
const OUTSIDE = ['../shared', 'shared/vectors', 'shared/protocol', 'ZTROOT_SHARED'];

/** Checked for every string of OUTSIDE (a path that does not exist is an error, so the list stays true). */
const SCANNED = [
  'src', 'test', 'tools', 'deploy', '.ci', 'docs', 'bin', 'grafana', 'native/src', 'native/build.sh', 'native/binding.gyp',
  'package.json', 'README.md', 'vitest.config.ts', 'tsconfig.json', '.dockerignore',
];

function filesUnder(path: string): string[] {
  const full = join(REPO, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** "file:line: text" for every line of `paths` that contains one of `needles`. */
function offenders(paths: readonly string[], needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of paths.flatMap(filesUnder)) {
    if (file === SELF) continue;
    const lines = readFileSync(file, 'latin1').split('\n');
    lines.forEach((line, i) => {
      if (needles.some((n) => line.includes(n))) found.push(`${relative(REPO, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

describe('the repository stands on its own', () => {
  it(`no file mentions ${OUTSIDE.join(', ')}`, () => {
    expect(offenders(SCANNED, OUTSIDE)).toEqual([]);
  });
});
