// Import from and export to zerotier-one's controller directory: the capture's network and member
// records, laid out as 1.14.1's FileDB writes them, come back byte for byte through
// `ztroot controller import` + `export`, and the imported controller serves them unchanged.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringifySorted, type JsonObject } from '../../src/controller/json-values.ts';
import { ControllerStore } from '../../src/controller/store.ts';
import { runZtroot, tempDir } from '../support/cli.ts';
import { captureExchange } from './capture-exchange.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('controller.d import and export', () => {
  it('round-trips 1.14.1 records unchanged, revisions included, and skips what is not a record', () => {
    const x = captureExchange();
    const src = tempDir('ztroot-ctld-src-'), home = tempDir('ztroot-ctld-home-'), out = tempDir('ztroot-ctld-out-');
    dirs.push(src, home, out);
    const nwid = x.network.id as string;
    mkdirSync(join(src, 'network', nwid, 'member'), { recursive: true });
    const files: Record<string, string> = { [`network/${nwid}.json`]: stringifySorted(x.network as JsonObject) };
    for (const [addr, m] of Object.entries(x.memberRecords)) files[`network/${nwid}/member/${addr}.json`] = stringifySorted(m as JsonObject);
    for (const [p, text] of Object.entries(files)) writeFileSync(join(src, p), text);
    writeFileSync(join(src, 'network', nwid, 'member', '00000000aa.json'), '{"not":"a member"}');
    writeFileSync(join(src, 'network', 'README'), 'ignored: not a record name');

    const imp = runZtroot(['controller', 'import', src, '--home', home], home);
    expect(imp.stdout).toBe('imported 1 networks and 2 members\n');
    expect(imp.stderr).toContain('00000000aa.json');
    expect(imp.status).toBe(2);

    const store = new ControllerStore(join(home, 'controller.db'));
    expect(store.network(BigInt('0x' + nwid))!.revision).toBe(1);
    expect(store.member(BigInt('0x' + nwid), 0x83918796b6)!.revision).toBe(3);
    store.close();

    const exp = runZtroot(['controller', 'export', out, '--home', home], home);
    expect(exp.status).toBe(0);
    for (const [p, text] of Object.entries(files)) expect(readFileSync(join(out, p), 'utf8')).toBe(text);
  });
});
