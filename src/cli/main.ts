// The `ztroot` command line. Each role and tool registers its subcommand here.

import { Command, CommanderError } from 'commander';
import { registerCli } from './cli-command.ts';
import { registerController } from './controller-command.ts';
import { registerDecode } from './decode-command.ts';
import { registerIdtool } from './idtool-command.ts';
import { registerLeaf } from './leaf-command.ts';
import { registerRoot } from './root-command.ts';

export function buildProgram(): Command {
  const program = new Command('ztroot')
    .description('ZeroTier infrastructure: roots (planet/moon), idtool, leaf and controller')
    .showHelpAfterError(false)
    .exitOverride();
  registerIdtool(program);
  registerRoot(program);
  registerController(program);
  registerLeaf(program);
  registerCli(program);
  registerDecode(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed its one-line message (or the help text)
      return e.exitCode;
    }
    throw e;
  }
}

/** Run as a process: set the exit code, and turn unexpected errors into one line on stderr. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`ztroot: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

if (import.meta.main) runCli(process.argv.slice(2));
