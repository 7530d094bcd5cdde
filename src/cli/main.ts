// The `ztroot` command line. Each role and tool registers its subcommand here.

import { Command, CommanderError } from 'commander';

type Register = (program: Command) => void;

/**
 * Each subcommand's module, in the order `ztroot --help` lists them. Only the module of the
 * command being run is loaded: every module loaded stays resident in a long-running daemon, and a
 * root has no use for the leaf, the controller or the dissector.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  idtool: async () => (await import('./idtool-command.ts')).registerIdtool,
  root: async () => (await import('./root-command.ts')).registerRoot,
  controller: async () => (await import('./controller-command.ts')).registerController,
  leaf: async () => (await import('./leaf-command.ts')).registerLeaf,
  cli: async () => (await import('./cli-command.ts')).registerCli,
  decode: async () => (await import('./decode-command.ts')).registerDecode,
};

/** The program with every subcommand, or only `command`'s when it names one. */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('ztroot')
    .description('ZeroTier infrastructure: roots (planet/moon), idtool, leaf and controller')
    .showHelpAfterError(false)
    .exitOverride();
  const names = command !== undefined && Object.hasOwn(COMMANDS, command) ? [command] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((name) => COMMANDS[name]()))) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv[0]);
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
