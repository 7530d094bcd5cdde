// `ztroot decode [--json] CAPTURE [IDENTITY_FILE...]`: dissect captured ZeroTier traffic (a
// classic pcap file or the JSON capture format of test/fixtures/zerotier-1.14.1) with the keys
// derived from the identities given, those embedded in a JSON capture, and the default planet's
// roots.
// Errors print one line on stderr and exit 1.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseIdentity, type Identity } from '../identity/identity.ts';
import { datagramToJson, formatDatagramLine, formatSummaryTable, summaryToJson } from '../dissect/dissect-format.ts';
import { defaultPlanetRootIdentities, Dissector } from '../dissect/dissect.ts';
import { parseCaptureJson, readPcap, type CapturedDatagram } from '../wire/capture.ts';
import { Keyring } from '../wire/keyring.ts';
import { CliError, processIo, type CliIo } from './idtool.ts';

/** Classic pcap magic numbers (microsecond and nanosecond, both byte orders) and pcapng's. */
const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);
const PCAPNG_MAGIC = 0x0a0d0d0a;
/** Output is written in pieces of about this many characters. */
const OUTPUT_CHUNK = 64 * 1024;

export interface DecodeFlags {
  json?: boolean;
}

interface LoadedCapture {
  format: 'pcap' | 'json';
  datagrams: CapturedDatagram[];
  /** Identities from a JSON capture's `hosts` (with secrets). */
  hosts: Identity[];
  /** pcap records that were not UDP datagrams, and whether the file ended inside a record. */
  skippedRecords: number;
  truncated: boolean;
}

function readBytes(path: string, what: string, io: CliIo): Buffer {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

export function loadCapture(path: string, io: CliIo): LoadedCapture {
  const bytes = readBytes(path, 'capture', io);
  const magic = bytes.length >= 4 ? bytes.readUInt32BE(0) : 0;
  if (PCAP_MAGICS.has(magic)) {
    const r = readPcap(bytes);
    if (!r.ok) {
      throw new CliError(r.error === 'unsupported-link-type'
        ? `${path}: unsupported pcap link type (Ethernet, raw IP and Linux cooked captures are read)`
        : `${path}: not a pcap file (${r.error})`);
    }
    return { format: 'pcap', datagrams: r.value.datagrams, hosts: [], skippedRecords: r.value.skipped, truncated: r.value.truncated };
  }
  if (magic === PCAPNG_MAGIC) throw new CliError(`${path}: pcapng is not supported; convert it with: editcap -F pcap ${path} out.pcap`);
  const parsed = parseCaptureJson(bytes.toString('utf8'));
  if (!parsed.ok) {
    throw new CliError(parsed.error === 'bad-json'
      ? `${path}: not a pcap file or JSON capture`
      : `${path}: JSON but not a capture (expected "hosts" and "packets" with t, src, dst, hex)`);
  }
  const hosts = parsed.capture.hosts.map((h) => {
    const id = parseIdentity(h.identitySecret.trim());
    if (!id) throw new CliError(`${path}: host ${h.name}: identity_secret is not an identity`);
    return id;
  });
  return { format: 'json', datagrams: parsed.capture.datagrams, hosts, skippedRecords: 0, truncated: false };
}

/** An identity file: the secret form (`identity.secret`); a public identity is accepted too. */
export function loadIdentityFile(path: string, io: CliIo): Identity {
  const id = parseIdentity(readBytes(path, 'identity', io).toString('utf8').trim());
  if (!id) throw new CliError(`${path}: not an identity (expected the identity.secret text form)`);
  return id;
}

export function buildKeyring(identities: readonly Identity[]): Keyring {
  const keyring = new Keyring();
  for (const root of defaultPlanetRootIdentities()) keyring.add(root);
  for (const id of identities) keyring.add(id);
  return keyring;
}

export function cmdDecode(capturePath: string, identityPaths: readonly string[], flags: DecodeFlags, io: CliIo): number {
  const capture = loadCapture(capturePath, io);
  const identities = [...capture.hosts, ...identityPaths.map((p) => loadIdentityFile(p, io))];
  const dissector = new Dissector(buildKeyring(identities));

  let pending = '';
  const emit = (line: string): void => {
    pending += `${line}\n`;
    if (pending.length >= OUTPUT_CHUNK) {
      io.out(pending);
      pending = '';
    }
  };
  const t0 = capture.datagrams[0]?.t ?? 0;
  for (const d of capture.datagrams) {
    const x = dissector.next(d);
    emit(flags.json ? JSON.stringify(datagramToJson(x)) : formatDatagramLine(x, t0));
  }
  const summary = dissector.summary();
  const source = { format: capture.format, skippedRecords: capture.skippedRecords, truncated: capture.truncated };
  if (flags.json) {
    const s = summaryToJson(summary);
    emit(JSON.stringify({ summary: { capture: source, ...s.summary } }));
  } else {
    emit('');
    emit(`capture: ${capture.format}, ${capture.datagrams.length} UDP datagrams` +
      (capture.format === 'pcap' ? `, ${capture.skippedRecords} other records skipped${capture.truncated ? ', file truncated' : ''}` : '') +
      `, ${identities.filter((i) => i.hasPrivate).length} identity secrets`);
    emit(formatSummaryTable(summary).trimEnd());
  }
  io.out(pending);
  return 0;
}

function run(io: CliIo, fn: () => number): void {
  try {
    process.exitCode = fn();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`ztroot decode: ${e.message}\n`);
    process.exitCode = 1;
  }
}

export function registerDecode(program: Command, io: CliIo = processIo): void {
  program.command('decode')
    .description('dissect captured ZeroTier traffic (pcap or JSON capture): headers, dearmored verbs and their fields')
    .argument('<capture>', 'classic pcap file, or a JSON capture ({hosts, packets})')
    .argument('[identity...]', 'identity.secret files of nodes in the capture (their peers\' keys are derived from them)')
    .option('--json', 'one JSON object per datagram, then {"summary": …}')
    .action((capture: string, identityFiles: string[], flags: DecodeFlags) => {
      // `ztroot decode … | head` closes the pipe early: stop quietly.
      if (io === processIo) process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
      run(io, () => cmdDecode(capture, identityFiles, flags, io));
    });
}
