// The argument parser: every command, its arguments and options, and what it runs. Each
// command's module is loaded only when it runs, so `piko --help` loads neither the server, nor
// ws, nor SQLite. This is the only place that decides the process's exit code.
import { Command, CommanderError } from 'commander';
import { PikoError } from '../core/errors.js';
import { ExitError } from './exit.js';
import { addConfigCommands } from './parser/config.js';
import { addCompletionCommands } from './parser/completion.js';
import { addEnvironmentCommands } from './parser/environments.js';
import { addOperationCommands } from './parser/operations.js';
import { addSetupCommands } from './parser/setup.js';
import { addUiCommands } from './parser/ui.js';
import { addWorkspaceCommands } from './parser/workspace.js';
import { print, stdoutColumns } from './terminal/print.js';

/** What commander found wrong with the command line, in its words. */
let usageError: string | undefined;

/** The exit code for what a command threw, having said what went wrong (once, here). */
async function fail(err: unknown): Promise<number> {
  if (err instanceof ExitError) return err.exitCode;
  const usage = usageError;
  // Help and the version end here too, having said nothing wrong.
  if (err instanceof CommanderError && usage === undefined) return err.exitCode;
  // Loaded only now: a command that succeeds never needs it.
  const { errorText, usageErrorText } = await import('./terminal/say.js');
  if (err instanceof CommanderError && usage !== undefined) {
    process.stderr.write(usageErrorText(usage, 'run `piko --help` for every command'));
    return err.exitCode;
  }
  if (err instanceof PikoError) {
    process.stderr.write(errorText(err.message, [err.hint]));
    return err.code === 'PIKO_ERR_USAGE' ? 2 : 1;
  }
  process.stderr.write(errorText(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, ['this is a bug in piko: please report it, with the command you ran']));
  return 1;
}

/** Parses the command line and runs the command it names. */
export function run(version: string): void {
  const program = new Command('piko')
    .description('An isolated dev environment per feature branch: a git worktree, its own containers and ports, a data dir, your setup scripts')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError()
    .configureOutput({
      // Kept for fail(), which says it in piko's voice (loading that only when something failed).
      outputError: (text) => (usageError = text),
      // Help in one write, without making process.stdout where stdout is no terminal (see print.ts).
      writeOut: print,
      getOutHelpWidth: () => stdoutColumns() ?? 80,
      // piko's help has no colours of its own to keep or strip.
      getOutHasColors: () => false,
    })
    .enablePositionalOptions()
    .exitOverride();

  addOperationCommands(program);
  addEnvironmentCommands(program);
  addWorkspaceCommands(program);
  addSetupCommands(program, version);
  addCompletionCommands(program);
  addConfigCommands(program);
  addUiCommands(program);

  program.parseAsync(process.argv).catch(async (err: unknown) => {
    process.exitCode = await fail(err);
    // Leaving at once: whatever still runs (a stage's command, a server's sockets) goes with us.
    if (err instanceof ExitError && err.immediate) process.exit(err.exitCode);
  });
}
