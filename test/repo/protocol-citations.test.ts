// Every protocol-note citation in src/, test/, tools/ and README.md can be followed: the cited
// `NN-name.md` exists in docs/protocol/, and every `§N` / `§N.M` cited with it (lists and ranges
// included, e.g. `04-verbs.md §2-§3, §12`) is a heading of that file. Abbreviations (a bare
// two-digit number before §) are refused. (That nothing points outside the repository is
// test/repo/self-contained.test.ts's job.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = join(ROOT, 'docs', 'protocol');
const SCANNED = ['src', 'test', 'tools', 'README.md'];
const TEXT = /\.(ts|js|mjs|cjs|md|json|sh|yml|yaml|txt)$/;

export interface Citation {
  file: string;
  line: number;
  doc: string;
  sections: string[];
}

function walk(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) {
      if (name === 'node_modules' || name === 'fixtures') continue;
      walk(join(path, name), out);
    }
  } else if (TEXT.test(path)) out.push(path);
}

export function scannedFiles(root = ROOT): string[] {
  const out: string[] = [];
  for (const p of SCANNED) walk(join(root, p), out);
  return out;
}

const SEC = String.raw`\d+(?:\.\d+)*`;
// One item: §N, §N.M, or a range §A–§B / §A-B (en dash or hyphen).
const ITEM = String.raw`§${SEC}(?:\s*[–-]\s*§?${SEC})?`;
// A file name, then optionally (after spaces, possibly a line break and a comment marker) a list
// of items separated by commas.
const CITATION = new RegExp(
  String.raw`(?<![\w-])(\d{2}-[a-z0-9-]+\.md)((?:[ \t]*(?:\r?\n[ \t]*(?:\/\/|\*|#)?[ \t]*)?${ITEM}(?:\s*,\s*${ITEM})*)?)`,
  'g',
);
const ABBREVIATED = /(?<![\w.-])\d{2} §\d/g;

/** Expand `§A-§B` into A..B at the last level (5.2-5.5 → 5.2, 5.3, 5.4, 5.5; 1-2 → 1, 2). */
export function expandItem(item: string): string[] {
  const [a, b] = item.split(/\s*[–-]\s*/).map((s) => s.replace(/^§/, ''));
  if (b === undefined) return [a];
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  const prefixA = pa.slice(0, -1).join('.');
  const prefixB = pb.slice(0, -1).join('.');
  if (pa.length !== pb.length || prefixA !== prefixB || pb[pb.length - 1] < pa[pa.length - 1]) return [a, b];
  const out: string[] = [];
  for (let n = pa[pa.length - 1]; n <= pb[pb.length - 1]; n++) out.push(prefixA ? `${prefixA}.${n}` : String(n));
  return out;
}

export function citationsIn(text: string, file: string): Citation[] {
  const out: Citation[] = [];
  for (const m of text.matchAll(CITATION)) {
    const line = text.slice(0, m.index).split('\n').length;
    const items = m[2].match(new RegExp(ITEM, 'g')) ?? [];
    out.push({ file, line, doc: m[1], sections: items.flatMap(expandItem) });
  }
  return out;
}

/** Section numbers of a doc's headings: `## 3. Title` → 3, `### 4.1 Title` → 4.1, `## §2 …` → 2. */
export function headingNumbers(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+§?(\d+(?:\.\d+)*)\.?\s/gm)) out.add(m[1]);
  return out;
}

function allCitations(): Citation[] {
  return scannedFiles().flatMap((f) => citationsIn(readFileSync(f, 'utf8'), relative(ROOT, f)));
}

describe('protocol citations (docs/protocol)', () => {
  const citations = allCitations();

  it('finds citations at all (the scanner works)', () => {
    expect(citations.length).toBeGreaterThan(100);
    expect(citationsIn('x (04-verbs.md §2-§3, §12) y', 'f')[0].sections).toEqual(['2', '3', '12']);
    expect(citationsIn('(docs/protocol/07-network-config-controller.md §5.2-§5.5)', 'f')[0].sections).toEqual([
      '5.2', '5.3', '5.4', '5.5',
    ]);
    expect(citationsIn('(07-network-config-controller.md\n// §3): x', 'f')[0].sections).toEqual(['3']);
    expect(citationsIn('05-world-moons.md §3–§6, 04-verbs.md §4.1', 'f').map((c) => c.sections)).toEqual([
      ['3', '4', '5', '6'],
      ['4.1'],
    ]);
    expect(headingNumbers('# T\n## 3. Worlds\n### 4.1 OK(HELLO)\n## Notes\n')).toEqual(new Set(['3', '4.1']));
  });

  it('every cited NN-name.md exists in docs/protocol/', () => {
    const docs = new Set(readdirSync(DOCS));
    const missing = citations.filter((c) => !docs.has(c.doc)).map((c) => `${c.file}:${c.line} ${c.doc}`);
    expect(missing).toEqual([]);
  });

  it('every cited § has a heading with that number in the cited file', () => {
    const headings = new Map<string, Set<string>>();
    const missing: string[] = [];
    for (const c of citations) {
      if (!headings.has(c.doc)) {
        let text = '';
        try {
          text = readFileSync(join(DOCS, c.doc), 'utf8');
        } catch {
          // reported by the previous test
        }
        headings.set(c.doc, headingNumbers(text));
      }
      for (const s of c.sections) if (!headings.get(c.doc)!.has(s)) missing.push(`${c.file}:${c.line} ${c.doc} §${s}`);
    }
    expect(missing).toEqual([]);
  });

  it('citations name the file in full (no two-digit abbreviation before §)', () => {
    const found: string[] = [];
    for (const f of scannedFiles()) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(ABBREVIATED)) {
        found.push(`${relative(ROOT, f)}:${text.slice(0, m.index).split('\n').length} ${m[0]}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('docs/protocol/README.md lists every file of docs/protocol/', () => {
    const index = readFileSync(join(DOCS, 'README.md'), 'utf8');
    const unlisted = readdirSync(DOCS).filter((n) => n !== 'README.md' && !index.includes(n));
    expect(unlisted).toEqual([]);
  });
});
