// Access to the reference data recorded from ZeroTier One 1.14.1, kept in the repository under
// test/fixtures/zerotier-1.14.1/ (10-test-vectors.md and the *.json / *.pcap recordings; its
// README.md says what each file is). This is the one place that knows where it lives.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/zerotier-1.14.1');

/** The path of a file in the reference data. */
export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}

export function readVectorJson<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

let doc: string | undefined;
/** 10-test-vectors.md as text. */
export function vectorDoc(): string {
  doc ??= readFileSync(fixturePath('10-test-vectors.md'), 'utf8');
  return doc;
}

/** The contents of the first fenced block after the first line that contains `label` (searching from `from`). */
export function fencedAfter(label: string, from = 0): string {
  const text = vectorDoc();
  const at = text.indexOf(label, from);
  if (at < 0) throw new Error(`test vectors: no "${label}"`);
  const open = text.indexOf('```', at);
  const bodyStart = text.indexOf('\n', open) + 1;
  const close = text.indexOf('```', bodyStart);
  return text.slice(bodyStart, close);
}

/** A hex block after `label`, whitespace removed. */
export function hexAfter(label: string, from = 0): Uint8Array {
  return hex(fencedAfter(label, from));
}

export interface C25519Set {
  pub1: Uint8Array; priv1: Uint8Array; pub2: Uint8Array; priv2: Uint8Array;
  agreement: Uint8Array; sig1: Uint8Array; sig2: Uint8Array;
}

/** The 32 C25519 sets of §3. */
export function c25519Sets(): C25519Set[] {
  const text = vectorDoc();
  const sets: C25519Set[] = [];
  for (let n = 0; ; n++) {
    const at = text.indexOf(`### Set ${n}\n`);
    if (at < 0) break;
    const fields: Record<string, Uint8Array> = {};
    for (const line of fencedAfter(`### Set ${n}\n`, at).trim().split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      fields[k] = hex(v);
    }
    sets.push(fields as unknown as C25519Set);
  }
  return sets;
}

/** The value on the line after a line `label` inside §2-style bullet lists: "label → tag `hex`". */
export function inlineTag(label: string): Uint8Array {
  const text = vectorDoc();
  const at = text.indexOf(label);
  if (at < 0) throw new Error(`test vectors: no "${label}"`);
  const line = text.slice(at, text.indexOf('\n', at));
  const m = /`([0-9a-f]+)`\s*$/.exec(line);
  if (!m) throw new Error(`test vectors: no hex value on "${line}"`);
  return hex(m[1]);
}
