// Run a block of armor tests once per implementation of src/wire/armor.ts: TypeScript, and the
// C addon (native/src/packet_crypto.c). The native run is skipped, with the reason in its title,
// only when the addon was not built; one that is built but fails to load or to pass its
// self-test fails the tests instead (useArmor('native') throws).

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe } from 'vitest';
import { useArmor, type ArmorImplementation } from '../../src/wire/armor.ts';
import { NATIVE_PACKET_CRYPTO_PATH } from '../../src/wire/native-armor.ts';

export const NATIVE_ARMOR_BUILT = existsSync(NATIVE_PACKET_CRYPTO_PATH);
export const NATIVE_SKIP_NOTE = ` — SKIPPED: addon not built (${NATIVE_PACKET_CRYPTO_PATH})`;

export const ARMOR_IMPLEMENTATIONS: readonly ArmorImplementation[] = ['js', 'native'];

export function implementationName(which: ArmorImplementation): string {
  return which === 'js' ? 'TypeScript' : 'native';
}

/** describe(title) once per implementation, with armor/dearmor pinned to it inside. */
export function describeEachArmor(title: string, body: (which: ArmorImplementation) => void): void {
  for (const which of ARMOR_IMPLEMENTATIONS) {
    const skip = which === 'native' && !NATIVE_ARMOR_BUILT;
    describe.skipIf(skip)(`[${implementationName(which)}] ${title}${skip ? NATIVE_SKIP_NOTE : ''}`, () => {
      beforeAll(() => useArmor(which));
      afterAll(() => useArmor('auto'));
      body(which);
    });
  }
}
