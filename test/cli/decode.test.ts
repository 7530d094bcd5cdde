// `ztroot decode`: the reference capture (test/fixtures/zerotier-1.14.1/capture-moon-lab.*)
// through the real binary and in-process; JSON output parses line by line; bad input is one line
// on stderr, exit 1.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cmdDecode } from '../../src/cli/decode-command.ts';
import { CliError, type CliIo } from '../../src/cli/idtool.ts';
import { fixturePath, readVectorJson } from '../support/vectors.ts';
import { runZtroot, tempDir } from '../support/cli.ts';

const CAPTURE_JSON = fixturePath('capture-moon-lab.json');
const CAPTURE_PCAP = fixturePath('capture-moon-lab.pcap');

class TestIo implements CliIo {
  stdout = '';
  stderr = '';
  errIsTty = false;
  readonly cwd: string;
  constructor(cwd: string) {
    this.cwd = cwd;
  }
  out(t: string): void { this.stdout += t; }
  err(t: string): void { this.stderr += t; }
  now(): number { return 0; }
}

/** cmdDecode in-process: output, or the one-line error it raised. */
function decode(args: { capture: string; identities?: string[]; json?: boolean }): { stdout: string; error?: string } {
  const io = new TestIo(dir);
  try {
    cmdDecode(args.capture, args.identities ?? [], { json: args.json }, io);
    return { stdout: io.stdout };
  } catch (e) {
    if (e instanceof CliError) return { stdout: io.stdout, error: e.message };
    throw e;
  }
}

/** The value of a `name  count` row of the text summary. */
function row(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[()]/g, '\\$&')} +(\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no row ${name}`);
  return Number(m[1]);
}

let dir: string;
let secrets: string[];

beforeAll(() => {
  dir = tempDir('ztroot-decode-');
  const hosts = readVectorJson<{ hosts: Record<string, { identity_secret: string }> }>('capture-moon-lab.json').hosts;
  secrets = Object.entries(hosts).map(([name, h]) => {
    const path = join(dir, `${name}.secret`);
    writeFileSync(path, `${h.identity_secret}\n`);
    return path;
  });
  writeFileSync(join(dir, 'notes.txt'), 'not a capture\n');
  writeFileSync(join(dir, 'other.json'), '{"packets": 3}');
  writeFileSync(join(dir, 'bad.secret'), '8e4df28b72:0:nothex\n');
  writeFileSync(join(dir, 'capture.pcapng'), Buffer.from('0a0d0d0a1c0000004d3c2b1a', 'hex'));
});

describe('ztroot decode (real binary)', () => {
  it('--json on the JSON capture: every line parses, zero failures, a final summary object', () => {
    const r = runZtroot(['decode', '--json', CAPTURE_JSON], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(440);
    const datagrams = lines.slice(0, -1);
    const { summary } = lines[439] as { summary: Record<string, unknown> };
    expect(summary).toMatchObject({ capture: { format: 'json' }, datagrams: 439, packets: 438, decoded: 438, failed: 0, failures: {} });
    expect(summary.verbs).toMatchObject({ HELLO: 75, 'OK(HELLO)': 72, WHOIS: 27, 'OK(WHOIS)': 27, FRAME: 18, NETWORK_CONFIG: 2 });
    expect(datagrams.map((d) => d.index)).toEqual(Array.from({ length: 439 }, (_, i) => i + 1));
    expect(datagrams.filter((d) => d.status === 'decoded')).toHaveLength(438);
    const frames = datagrams.filter((d) => d.verb === 'FRAME') as { message: { value: { etherType: number } }; ethernet: Record<string, unknown> }[];
    expect(frames.some((f) => f.message.value.etherType === 0x0806 && f.ethernet.protocol === 'ARP')).toBe(true);
    expect(frames.some((f) => f.message.value.etherType === 0x0800 &&
      (f.ethernet.transport as { icmp?: { name: string } } | undefined)?.icmp?.name === 'echo-request')).toBe(true);
  }, 60_000);

  it('the pcap with the three identity.secret files: text lines and a summary table with no failure', () => {
    const r = runZtroot(['decode', CAPTURE_PCAP, ...secrets], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^#1 0\.000000 198\.18\.0\.3\/21507 > 198\.18\.0\.1\/9993 {2}99dfbd68a5 > 67960034a2 id 049b8c429432f434 hops 0 poly1305 {2}HELLO proto 12 v1\.14\.1 .* moons \[00000067960034a2@\d+\]$/m);
    expect(r.stdout).toContain('capture: pcap, 439 UDP datagrams, 0 other records skipped, 3 identity secrets');
    expect(row(r.stdout, 'datagrams')).toBe(439);
    expect(row(r.stdout, '  decoded')).toBe(438);
    expect(row(r.stdout, '  failed')).toBe(0);
    expect(row(r.stdout, 'OK(NETWORK_CONFIG_REQUEST)')).toBe(2);
    expect(r.stdout).toMatch(/FRAME nwid 67960034a23505e0 IPv4 10\.147\.17\.\d+ > 10\.147\.17\.\d+ ICMP echo-request/);
    expect(r.stdout).toMatch(/FRAME nwid 67960034a23505e0 ARP reply 10\.147\.17\.31 is-at/);
  }, 60_000);

  it('a missing capture: one line on stderr, exit 1', () => {
    const r = runZtroot(['decode', join(dir, 'nope.pcap')], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`ztroot decode: cannot read capture ${join(dir, 'nope.pcap')}: no such file\n`);
  }, 60_000);

  it('an unreadable secret: one line on stderr, exit 1', () => {
    const r = runZtroot(['decode', CAPTURE_PCAP, 'bad.secret'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('ztroot decode: bad.secret: not an identity (expected the identity.secret text form)\n');
  }, 60_000);
});

describe('ztroot decode (in-process)', () => {
  it('without secrets every packet of the pcap says no-key', () => {
    const { stdout, error } = decode({ capture: CAPTURE_PCAP });
    expect(error).toBeUndefined();
    const lines = stdout.split('\n').filter((l) => l.startsWith('#'));
    expect(lines).toHaveLength(439);
    const packets = lines.filter((l) => !l.endsWith('ignored (4 bytes)'));
    expect(packets).toHaveLength(438);
    for (const l of packets) expect(l).toMatch(/ {2}! no-key \(no key for [0-9a-f]{10} \/ [0-9a-f]{10}\)$/);
    expect(row(stdout, '    no-key')).toBe(438);
    expect(row(stdout, '  decoded')).toBe(0);
  });

  it('--json without secrets: each packet object has failure no-key', () => {
    const { stdout } = decode({ capture: CAPTURE_PCAP, json: true });
    const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const packets = lines.filter((l) => l.kind === 'packet');
    expect(packets).toHaveLength(438);
    expect(packets.every((p) => (p.failure as { reason: string }).reason === 'no-key')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ summary: { capture: { format: 'pcap', skippedRecords: 0, truncated: false }, failures: { 'no-key': 438 } } });
  });

  it('the JSON capture uses its embedded secrets', () => {
    const { stdout } = decode({ capture: CAPTURE_JSON });
    expect(row(stdout, '  failed')).toBe(0);
    expect(row(stdout, 'HELLO')).toBe(75);
    expect(stdout).toContain('3 identity secrets');
  });

  it('bad inputs are one-line errors', () => {
    expect(decode({ capture: 'notes.txt' }).error).toBe('notes.txt: not a pcap file or JSON capture');
    expect(decode({ capture: 'other.json' }).error).toBe('other.json: JSON but not a capture (expected "hosts" and "packets" with t, src, dst, hex)');
    expect(decode({ capture: 'capture.pcapng' }).error).toBe('capture.pcapng: pcapng is not supported; convert it with: editcap -F pcap capture.pcapng out.pcap');
    expect(decode({ capture: CAPTURE_PCAP, identities: ['missing.secret'] }).error).toBe('cannot read identity missing.secret: no such file');
    expect(decode({ capture: dir }).error).toBe(`cannot read capture ${dir}: is a directory`);
    for (const e of ['notes.txt', 'other.json'].map((c) => decode({ capture: c }).error!)) expect(e).not.toContain('\n');
  });
});
