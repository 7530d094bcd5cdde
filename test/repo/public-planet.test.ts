// ZeroTier's public planet is built in as data, and no node of ours may ever use it unless a
// flag or config key names it (`--planet public`): every role chooses its planet through
// choosePlanet (src/node/topology.ts), whose default is none. This guard keeps it that way: the
// built-in planet is reachable only from there and from the dissector, which only decodes it.
// (test/e2e/netns-orbit.test.ts shows a started root sends nothing anywhere without a planet.)

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const ALLOWED = ['src/node/topology.ts', 'src/world/default-planet.ts', 'src/dissect/dissect.ts'];

describe('the public planet is never a default', () => {
  it(`only ${ALLOWED.join(', ')} refer to the built-in planet`, () => {
    const users = readdirSync(join(REPO, 'src'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => join(e.parentPath, e.name))
      .filter((f) => /DEFAULT_PLANET|default-planet/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO, f));
    expect(users.filter((f) => !ALLOWED.includes(f))).toEqual([]);
  });
});
