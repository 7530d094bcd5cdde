import { describe, expect, it } from 'vitest';
import { parseIdentity } from '../../src/identity/identity.ts';
import { dearmor } from '../../src/wire/armor.ts';
import { Cipher, HeaderFlag, PacketOffset, Verb } from '../../src/wire/constants.ts';
import { applyExtendedArmor, EXTENDED_ARMOR_KEY_LENGTH, hasExtendedArmor, removeExtendedArmor } from '../../src/wire/extended-armor.ts';
import { newPacket } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { fencedAfter, toHex } from '../support/vectors.ts';

const A = parseIdentity(fencedAfter('Identity A (secret form').trim())!;
const B = parseIdentity(fencedAfter('Identity B (secret form').trim())!;
const key = new PeerKey(B.agree(A)!);

function hello(): Uint8Array {
  const payload = Uint8Array.from({ length: 120 }, (_, i) => i);
  return newPacket({ id: new Uint8Array(8).fill(7), destination: A.address, source: B.address, verb: Verb.HELLO, payload });
}

describe('extended armor (root.cpp encrypted HELLO)', () => {
  it('B wraps a HELLO for A; A unwraps it into a cipher-0 packet whose MAC verifies', () => {
    const plain = hello();
    const wire = applyExtendedArmor(hello(), key, A.publicKey);
    expect(wire.length).toBe(plain.length + EXTENDED_ARMOR_KEY_LENGTH);
    expect(hasExtendedArmor(wire)).toBe(true);
    expect((wire[PacketOffset.flags] & HeaderFlag.cipherMask) >> 3).toBe(Cipher.poly1305None);
    // the payload is hidden on the wire
    expect(toHex(wire.subarray(PacketOffset.payload, plain.length))).not.toBe(toHex(plain.subarray(PacketOffset.payload)));
    const inner = removeExtendedArmor(wire, A.privateKey!)!;
    expect(inner.length).toBe(plain.length);
    expect(toHex(inner.subarray(PacketOffset.payload))).toBe(toHex(plain.subarray(PacketOffset.payload)));
    expect(dearmor(inner, new PeerKey(A.agree(B)!)).ok).toBe(true);
  });

  it('the wrong recipient or a flipped byte fails the inner MAC', () => {
    const wire = applyExtendedArmor(hello(), key, A.publicKey);
    const wrong = removeExtendedArmor(wire, B.privateKey!)!;
    expect(dearmor(wrong, key).ok).toBe(false);
    const tampered = Uint8Array.from(wire);
    tampered[60] ^= 1;
    expect(dearmor(removeExtendedArmor(tampered, A.privateKey!)!, key).ok).toBe(false);
  });

  it('refuses packets too short to carry the ephemeral key', () => {
    expect(removeExtendedArmor(new Uint8Array(59), A.privateKey!)).toBeNull();
  });

  it('an ordinary 1.14 HELLO (flags 0x00) and cipher 1 (0x88) are not extended armor', () => {
    const p = hello();
    expect(hasExtendedArmor(p)).toBe(false);
    p[PacketOffset.flags] = 0x88;
    expect(hasExtendedArmor(p)).toBe(false);
  });
});
