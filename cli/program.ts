// The argument parser: every command, its arguments and options, and what it runs. Each
// command's module is loaded only when it runs, so `piko --help` loads neither the server, nor
// ws, nor SQLite. This is the only place that decides the process's exit code.
import { Command, CommanderError, Option } from 'commander';
import { PikoError } from '../core/errors.js';
import { ExitError } from './exit.js';
import { print, stdoutColumns } from './terminal/print.js';

interface StreamOptions {
  json?: boolean;
  quiet?: boolean;
  yes?: boolean;
  transport?: string;
}

/** What commander found wrong with the command line, in its words. */
let usageError: string | undefined;

function transportOption(): Option {
  return new Option(
    '-t, --transport <transport>',
    'websocket or sse: through `piko server` when one runs, else here; stdout: always here; or one a plugin adds (default: $PIKO_TRANSPORT, then the config, then websocket)',
  );
}

/** The options of every command that shows an operation as it runs. */
function streaming(command: Command): Command {
  return command
    .addOption(transportOption())
    .option('--json', 'print the protocol messages as NDJSON, nothing else')
    .option('-q, --quiet', 'print only the final line and errors')
    .option('-y, --yes', "approve what the project's config runs (scripts, stages, plugins) as it is now");
}

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

  program
    .command('init')
    .description('register the git repository you stand in as a project (named after its folder), approve what its config runs; adds .piko/ to .gitignore')
    .action(async () => (await import('./commands/init.js')).init(process.cwd()));

  program
    .command('trust')
    .description("show what the project's config runs (scripts, stages, shells, plugins) and approve it; piko refuses to run a config that changed until then")
    .argument('[project]', 'project name (default: the one you stand in)')
    .action(async (name: string | undefined) => (await import('./commands/trust.js')).trust(name));

  streaming(
    program
      .command('create')
      .description('create an environment: worktree, data dir, containers and scripts, every line shown as it runs')
      .argument('<name>', 'environment name, or project/name')
      .option('-b, --branch <base>', 'branch or commit to start the new branch from (default: HEAD)')
      .option('--from <env>', 'copy the ignored files (.worktreeinclude, copy:) from this environment instead of the repository')
      .option('--no-attach', 'do not attach to its tmux session afterwards (default: attach when there is one and this is a terminal)'),
  ).action(async (name: string, options: StreamOptions & { branch?: string; from?: string; attach: boolean }) => {
    const { operate } = await import('./delivery/operate.js');
    await operate(
      name,
      (target) => ({
        action: 'create',
        ...target,
        attach: options.attach,
        ...(options.branch === undefined ? {} : { branch: options.branch }),
        ...(options.from === undefined ? {} : { from: options.from }),
      }),
      options,
    );
  });

  streaming(
    program
      .command('destroy')
      .description('tear an environment down: destroy script, containers, worktree, data dir, state')
      .argument('<name>', 'environment name, or project/name')
      .option('--keep-volumes', 'keep its docker volumes')
      .option('--discard-changes', 'remove the worktree even with uncommitted changes (the branch stays)')
      .option('--delete-branch', 'delete its branch too')
      .option('-f, --force', 'both of those, and carry on past docker errors'),
  ).action(async (name: string, options: StreamOptions & { keepVolumes?: boolean; force?: boolean; discardChanges?: boolean; deleteBranch?: boolean }) => {
    const { operate } = await import('./delivery/operate.js');
    await operate(
      name,
      (target) => ({
        action: 'destroy',
        ...target,
        keepVolumes: options.keepVolumes,
        force: options.force,
        discardChanges: options.discardChanges,
        deleteBranch: options.force || options.deleteBranch,
      }),
      options,
    );
  });

  for (const [action, what] of [
    ['up', "start the environment's containers"],
    ['down', "stop the environment's containers (volumes are kept)"],
    ['restart', "restart the environment's containers"],
  ] as const) {
    streaming(
      program
        .command(action)
        .description(`${what}, streamed like a create`)
        .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)'),
    ).action(async (name: string | undefined, options: StreamOptions) => (await import('./delivery/operate.js')).lifecycle(action, name, options));
  }

  program
    .command('status')
    .description('one environment in detail: paths, ports, containers, tmux session, last operation')
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { json?: boolean }) => (await import('./commands/status.js')).status(name, options));

  program
    .command('vars')
    .description('the environment\'s PIKO_* variables, ready for `eval "$(piko vars)"`')
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { json?: boolean }) => (await import('./commands/vars.js')).vars(name, options));

  program
    .command('exec')
    .description('run a command in one of the environment\'s containers (docker compose exec), with this terminal')
    .argument('<name>', 'environment name, or project/name')
    .argument('<service>', 'compose service')
    .argument('[command...]', "what to run (default: the service's shell)")
    .passThroughOptions()
    .action(async (name: string, service: string, command: string[]) => (await import('./commands/exec.js')).exec(name, service, command));

  program
    .command('shell')
    .description("a shell in one of the environment's containers (`shells.<service>` in the config, default sh)")
    .argument('<name>', 'environment name, or project/name')
    .argument('<service>', 'compose service')
    .action(async (name: string, service: string) => (await import('./commands/exec.js')).exec(name, service, []));

  program
    .command('run')
    .description("run the config's scripts.run in the environment's worktree, with its variables")
    .argument('<name>', 'environment name, or project/name')
    .action(async (name: string) => (await import('./commands/exec.js')).run(name));

  program
    .command('attach')
    .description("attach this terminal to the environment's tmux session (switch to it inside tmux)")
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .action(async (name: string | undefined) => (await import('./commands/attach.js')).attach(name));

  program
    .command('list')
    .alias('ls')
    .description('list environments: id, name, project, mode, status, branch, path, ports')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('./commands/list.js')).list(options));

  program
    .command('logs')
    .description("print an operation's log as it streamed: an environment's latest operation, or one by id")
    .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
    .option('-f, --follow', 'follow a running operation to its end')
    .addOption(transportOption())
    .option('--json', 'print the protocol messages as NDJSON, nothing else')
    .action(async (name: string, options: { follow?: boolean; json?: boolean; transport?: string }) =>
      (await import('./commands/logs.js')).logs(name, options),
    );

  program
    .command('cancel')
    .description('cancel a running operation, on the server or in a local piko: it stops and rolls back')
    .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
    .action(async (name: string) => (await import('./commands/cancel.js')).cancel(name));

  program
    .command('doctor')
    .description('check git, docker, docker compose, tmux, the server, the state database and every project')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('./commands/doctor.js')).doctor(options));

  program
    .command('projects')
    .description('list the registered projects')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('./commands/projects.js')).projects(options));

  program
    .command('project')
    .description('manage registered projects')
    .command('rm')
    .description('forget a project (its repository is untouched)')
    .argument('<name>', 'project name')
    .option('-f, --force', 'destroy its environments first')
    .action(async (name: string, options: { force?: boolean }) => (await import('./commands/projects.js')).removeProject(name, options));

  program
    .command('server')
    .description('run the piko server in the foreground: operations stream to clients over WebSocket and SSE')
    .option('-p, --port <port>', 'port to listen on; 0 picks a free one', '19876')
    .option('--host <host>', 'address to listen on; anything but loopback lets other machines in', '127.0.0.1')
    .action(async (options: { port: string; host: string }) => (await import('./commands/server.js')).server(options, version));

  program.parseAsync(process.argv).catch(async (err: unknown) => {
    process.exitCode = await fail(err);
    // Leaving at once: whatever still runs (a stage's command, a server's sockets) goes with us.
    if (err instanceof ExitError && err.immediate) process.exit(err.exitCode);
  });
}
