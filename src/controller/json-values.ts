// Reading loosely typed JSON the way 1.14's controller does (OSUtils::jsonBool / jsonInt /
// jsonString, docs/protocol/12-controller-ui-compat.md §3): the UIs send "true" strings, numeric strings and
// numbers where booleans are meant, and rely on these conversions.

import { strtoull } from '../util/strtoull.ts';

import type { Json, JsonObject } from '../util/json.ts';

export type { Json, JsonObject };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A boolean, a number > 0, or a string starting with t, T or 1; `dfl` for anything else. */
export function jsonBool(v: Json | undefined, dfl: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v > 0;
  if (typeof v === 'string') return v.length > 0 && (v[0] === 't' || v[0] === 'T' || v[0] === '1');
  return dfl;
}

/** An unsigned integer: numbers (truncated toward zero), decimal strings (strtoull base 10), booleans. */
export function jsonInt(v: Json | undefined, dfl: number): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dfl;
  if (typeof v === 'string') return Number(strtoull(v, 10));
  if (typeof v === 'boolean') return v ? 1 : 0;
  return dfl;
}

/** A string; numbers become their decimal text, booleans "1" / "0". */
export function jsonString(v: Json | undefined, dfl: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.trunc(v)) : dfl;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return dfl;
}

const rawJson = JSON as unknown as { rawJSON(text: string): unknown; isRawJSON(v: unknown): boolean };

function isRawJson(v: unknown): boolean {
  return typeof v === 'object' && v !== null && rawJson.isRawJSON(v);
}

/** JSON text with object keys in alphabetical order (nlohmann::json's std::map order), compact. */
export function stringifySorted(v: Json): string {
  if (isRawJson(v)) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifySorted).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stringifySorted(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEquals(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEquals(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k], b[k]));
  }
  return false;
}
