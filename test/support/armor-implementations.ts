// Run a block of armor tests once per implementation of src/wire/armor.ts: TypeScript, and the
// C addon (native/src/packet_crypto.c). The native run is skipped (and says why, test/support/skips.ts)
// only when the addon was not built; one that is built but fails to load or to pass its
// self-test fails the tests instead (useArmor('native') throws).

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe } from 'vitest';
import { useArmor, type ArmorImplementation } from '../../src/wire/armor.ts';
import { NATIVE_PACKET_CRYPTO_PATH } from '../../src/wire/native-armor.ts';
import { skipGroup } from './skips.ts';

const NATIVE_ARMOR_BUILT = existsSync(NATIVE_PACKET_CRYPTO_PATH);

/** True (skip, and announce it for `group`) when the native addon is not built here. */
export function skipNativeArmor(group: string): boolean {
  return skipGroup(group, NATIVE_ARMOR_BUILT ? undefined : `addon not built (${NATIVE_PACKET_CRYPTO_PATH}); run \`npm run build:native\``);
}

export const ARMOR_IMPLEMENTATIONS: readonly ArmorImplementation[] = ['js', 'native'];

export function implementationName(which: ArmorImplementation): string {
  return which === 'js' ? 'TypeScript' : 'native';
}

/** describe(title) once per implementation, with armor/dearmor pinned to it inside. */
export function describeEachArmor(title: string, body: (which: ArmorImplementation) => void): void {
  for (const which of ARMOR_IMPLEMENTATIONS) {
    const skip = which === 'native' && skipNativeArmor(`native armor: ${title}`);
    describe.skipIf(skip)(`[${implementationName(which)}] ${title}`, () => {
      beforeAll(() => useArmor(which));
      afterAll(() => useArmor('auto'));
      body(which);
    });
  }
}
