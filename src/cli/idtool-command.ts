// commander wiring for `ztroot idtool`. Errors print their one line on stderr and exit 1.

import type { Command } from 'commander';
import {
  CliError, cmdGenerate, cmdGenmoon, cmdGenplanet, cmdGetpublic, cmdInitmoon, cmdInitplanet, cmdInspect, cmdRotatekey,
  cmdSign, cmdValidate, cmdVerify, processIo, type CliIo,
} from './idtool.ts';

function run(io: CliIo, fn: () => number): void {
  try {
    process.exitCode = fn();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.err(`${e.message}\n`);
    process.exitCode = 1;
  }
}

export function registerIdtool(program: Command, io: CliIo = processIo): void {
  const idtool = program.command('idtool').description('identities and world (moon/planet) definitions, like zerotier-idtool');
  idtool.command('generate').description('generate an identity (prints the secret form, or writes the files)')
    .argument('[identity.secret]').argument('[identity.public]').argument('[vanity]', 'hex prefix the address must start with')
    .action((secretFile?: string, publicFile?: string, vanity?: string) => run(io, () => cmdGenerate({ secretFile, publicFile, vanity }, io)));
  idtool.command('validate').description('check an identity\'s proof of work').argument('<identity>', 'identity file or literal')
    .action((a: string) => run(io, () => cmdValidate(a, io)));
  idtool.command('getpublic').description('print the public form of an identity').argument('<identity.secret>')
    .action((a: string) => run(io, () => cmdGetpublic(a, io)));
  idtool.command('sign').description('sign a file (prints 192 hex digits)').argument('<identity.secret>').argument('<file>')
    .action((a: string, f: string) => run(io, () => cmdSign(a, f, io)));
  idtool.command('verify').description('verify a file\'s signature (hex, or a file holding hex)')
    .argument('<identity>').argument('<file>').argument('<signature>')
    .action((a: string, f: string, s: string) => run(io, () => cmdVerify(a, f, s, io)));
  idtool.command('initmoon').description('print a moon definition (JSON) with this identity as its first root')
    .argument('<identity.public>').action((a: string) => run(io, () => cmdInitmoon(a, io)));
  idtool.command('genmoon').description('sign a world definition into <id>.moon in the current directory')
    .argument('<moon.json>').action((f: string) => run(io, () => cmdGenmoon(f, io)));
  idtool.command('initplanet').description('print a private planet definition (JSON) with this identity as its first root')
    .argument('<identity.public>').argument('[worldId]', 'hex world ID (random if omitted)')
    .action((a: string, w?: string) => run(io, () => cmdInitplanet(a, w, io)));
  idtool.command('genplanet').description('sign a planet definition into ./planet')
    .argument('<planet.json>').action((f: string) => run(io, () => cmdGenplanet(f, io)));
  idtool.command('rotatekey').description('sign a new revision that hands update rights to a fresh key, and store that key in the definition')
    .argument('<world.json>').action((f: string) => run(io, () => cmdRotatekey(f, io)));
  idtool.command('inspect').description('print a .moon or planet file as JSON').argument('<file>')
    .action((f: string) => run(io, () => cmdInspect(f, io)));
}
