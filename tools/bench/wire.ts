// Micro-benchmarks of the packet layer's hot paths: header peek and relay hop bump, armor and
// dearmor per cipher suite at 100 and 1400 bytes, LZ4 packet (de)compression, and fragment
// reassembly. Each measurement runs for about half a second (BENCH_SECONDS overrides).
//
//   npx node tools/bench/wire.ts

import { armor, dearmor, type ArmorCipher } from '../../src/wire/armor.ts';
import { compressPacket, uncompressPacket } from '../../src/wire/compression.ts';
import { Verb } from '../../src/wire/constants.ts';
import { markFragmentedIfNeeded, Reassembler, splitPacket } from '../../src/wire/fragment.ts';
import { createDatagramPeek, incrementHopsForRelay, newPacket, peekDatagram } from '../../src/wire/packet.ts';
import { PeerKey } from '../../src/wire/peer-key.ts';
import { measure, report, type Measurement } from './harness.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 0.5);
const A = 0x8e4df28b72;
const B = 0xf2a3140316;
const key = new PeerKey(Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 0xff));

const run = (name: string, fn: () => void): Measurement => measure(name, fn, { seconds });

function packetOfLength(total: number, id = 0x0123456789abcdefn): Uint8Array {
  const payload = Uint8Array.from({ length: total - 28 }, (_, i) => (i * 7) & 0xff);
  return newPacket({ id, destination: A, source: B, verb: Verb.FRAME, payload });
}

// --- relay path -------------------------------------------------------------------------------
{
  const d = packetOfLength(1400);
  const peek = createDatagramPeek();
  report('Relay path (1400-byte head)', [
    run('header peek (peekDatagram)', () => void peekDatagram(d, peek)),
    run('hop bump (incrementHopsForRelay)', () => {
      d[18] &= 0xf8;
      incrementHopsForRelay(d, 3);
    }),
  ]);
}

// --- armor / dearmor --------------------------------------------------------------------------
for (const size of [100, 1400]) {
  const rows: Measurement[] = [];
  for (const cipher of [0, 1, 3] as ArmorCipher[]) {
    const work = packetOfLength(size);
    rows.push(run(`armor   cipher ${cipher}`, () => armor(work, key, cipher)));
    const armored = packetOfLength(size);
    armor(armored, key, cipher);
    const p = new Uint8Array(size);
    rows.push(run(`dearmor cipher ${cipher} (incl. copy-in)`, () => {
      p.set(armored);
      if (!dearmor(p, key).ok) throw new Error('bench: dearmor failed');
    }));
  }
  report(`Armor / dearmor, ${size}-byte packets`, rows);
}

// --- compression ------------------------------------------------------------------------------
{
  const text = new TextEncoder().encode('{"nwid":"8056c2e21c000001","authorized":true,"ipAssignments":["10.147.17.5"]} '.repeat(15));
  const plain = newPacket({ id: 1n, destination: A, source: B, verb: Verb.NETWORK_CONFIG, payload: text.subarray(0, 1100) });
  const compressed = compressPacket(Uint8Array.from(plain));
  report(`LZ4 packet compression (${plain.length} <-> ${compressed.length} bytes)`, [
    run('compressPacket', () => void compressPacket(plain.slice())),
    run('uncompressPacket', () => {
      if (!uncompressPacket(compressed).ok) throw new Error('bench: uncompress failed');
    }),
  ]);
}

// --- reassembly -------------------------------------------------------------------------------
{
  const template = packetOfLength(3028);
  markFragmentedIfNeeded(template, 1432);
  armor(template, key, 1);
  const pieces = splitPacket(template, 1432);
  const r = new Reassembler();
  let id = 0n;
  const view = new DataView(new ArrayBuffer(8));
  report('Fragment reassembly', [run('3-piece 3028-byte packet, head last', () => {
    id++;
    view.setBigUint64(0, id);
    const idBytes = new Uint8Array(view.buffer);
    for (const d of pieces) d.set(idBytes, 0); // fresh packet ID each time
    r.addFragment(pieces[1], 0);
    r.addFragment(pieces[2], 0);
    if (r.addHead(pieces[0], 0).status !== 'complete') throw new Error('bench: reassembly incomplete');
  })]);
}
