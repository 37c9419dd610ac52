#!/usr/bin/env node
// The `piko` command. Each command's module is loaded only when it runs, so `piko --version`
// and `piko --help` stay fast. This is the only place that decides the process's exit code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { PikoError } from '../core/errors.js';
import { ExitError } from './context.js';
import type { TransportName } from '../core/config.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('piko')
  .description('An isolated dev environment per feature branch: worktree, containers, ports, scripts')
  .version(version, '-v, --version')
  .showSuggestionAfterError()
  .exitOverride();

program
  .command('init')
  .description('register the git repository you stand in as a project (named after its folder)')
  .action(async () => (await import('./commands/init.js')).init(process.cwd()));

program
  .command('create')
  .description('create an environment: worktree, data dir, containers and scripts, streamed as they run')
  .argument('<name>', 'environment name, or project/name')
  .option('-b, --branch <base>', 'branch or commit to start the new branch from (default: HEAD)')
  .option('--no-attach', 'do not attach to the tmux session afterwards')
  .addOption(transportOption())
  .option('--json', 'print protocol messages as NDJSON instead of text', false)
  .action(async (name: string, options: { branch?: string; attach: boolean; json: boolean; transport?: TransportName }) => {
    const { operate } = await import('./operate.js');
    await operate(name, (target) => ({
      action: 'create',
      ...target,
      attach: options.attach,
      ...(options.branch === undefined ? {} : { branch: options.branch }),
    }), options);
  });

program
  .command('destroy')
  .description('tear an environment down: containers, worktree, data dir, state')
  .argument('<name>', 'environment name, or project/name')
  .option('--keep-volumes', 'keep the docker volumes', false)
  .option('-f, --force', 'also delete the branch, throw away uncommitted changes, carry on past docker errors', false)
  .addOption(transportOption())
  .option('--json', 'print protocol messages as NDJSON instead of text', false)
  .action(async (name: string, options: { keepVolumes: boolean; force: boolean; json: boolean; transport?: TransportName }) => {
    const { operate } = await import('./operate.js');
    await operate(name, (target) => ({
      action: 'destroy',
      ...target,
      keepVolumes: options.keepVolumes,
      force: options.force,
      deleteBranch: options.force,
    }), options);
  });

program
  .command('list')
  .alias('ls')
  .description('list environments: id, name, project, mode, status, branch, path')
  .option('--json', 'print JSON', false)
  .action(async (options: { json: boolean }) => (await import('./commands/list.js')).list(options));

program
  .command('logs')
  .description("print an operation's log the way it streamed: an environment's latest operation, or one by id")
  .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
  .option('-f, --follow', 'follow a running operation to its end', false)
  .addOption(transportOption())
  .option('--json', 'print protocol messages as NDJSON instead of text', false)
  .action(async (name: string, options: { follow: boolean; json: boolean; transport?: TransportName }) =>
    (await import('./commands/logs.js')).logs(name, options),
  );

program
  .command('cancel')
  .description('cancel a running operation (on the server or in a local piko): it stops and rolls back')
  .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
  .action(async (name: string) => (await import('./commands/cancel.js')).cancel(name));

program
  .command('server')
  .description('run the piko server in the foreground: operations stream to clients over WebSocket')
  .option('-p, --port <port>', 'port to listen on (0: any free port)', String(19876))
  .option('--host <host>', 'address to listen on; anything but loopback lets other machines in', '127.0.0.1')
  .action(async (options: { port: string; host: string }) => (await import('./commands/server.js')).server(options, version));

function transportOption(): Option {
  return new Option(
    '-t, --transport <transport>',
    'websocket or sse: through `piko server` when one runs, else here; stdout: always here (default: PIKO_TRANSPORT, then the config, then websocket)',
  ).choices(['websocket', 'sse', 'stdout']);
}

function fail(err: unknown): number {
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof PikoError) {
    process.stderr.write(`piko: ${err.message}\n  ${err.hint}\n`);
    return err.code === 'PIKO_ERR_USAGE' ? 2 : 1;
  }
  process.stderr.write(`piko: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = fail(err);
}
