// The commands that run an operation, streamed as it runs, and those that follow or stop one.
import type { Command } from 'commander';
import { streaming, transportOption, type StreamOptions } from './options.js';

export function addOperationCommands(program: Command): void {
  streaming(
    program
      .command('create')
      .description('create an environment: worktree, data dir, containers and scripts, every line shown as it runs')
      .argument('<name>', 'environment name, or project/name')
      .option('-b, --branch <base>', 'branch or commit to start the new branch from (default: HEAD)')
      .option('--from <env>', 'copy the ignored files (.worktreeinclude, copy:) from this environment instead of the repository')
      .option('--no-attach', 'do not attach to its tmux session afterwards (default: attach when there is one and this is a terminal)'),
  ).action(async (name: string, options: StreamOptions & { branch?: string; from?: string; attach: boolean }) => {
    const { operate } = await import('../delivery/operate.js');
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
    const { operate } = await import('../delivery/operate.js');
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
    ).action(async (name: string | undefined, options: StreamOptions) => (await import('../delivery/operate.js')).lifecycle(action, name, options));
  }

  program
    .command('logs')
    .description("print an operation's log as it streamed: an environment's latest operation, or one by id")
    .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
    .option('-f, --follow', 'follow a running operation to its end')
    .addOption(transportOption())
    .option('--json', 'print the protocol messages as NDJSON, nothing else')
    .action(async (name: string, options: { follow?: boolean; json?: boolean; transport?: string }) =>
      (await import('../commands/logs.js')).logs(name, options),
    );

  program
    .command('cancel')
    .description('cancel a running operation, on the server or in a local piko: it stops and rolls back')
    .argument('<name>', 'environment name (or project/name), or an operation id (op_…)')
    .action(async (name: string) => (await import('../commands/cancel.js')).cancel(name));

  program
    .command('prune')
    .description('the environments that are done (branch merged or gone, removed by hand, left without a record; unused, with --idle): a table, and with --yes removed')
    .option('--idle <duration>', 'also those nobody used for this long (30d, 2w, 12h)')
    .option('-y, --yes', 'remove them: each one piko has a record of by a destroy, streamed like one')
    .option('--discard-changes', 'remove those holding uncommitted work a person made too (never those in use)')
    .option('-p, --project <name>', 'only this project (default: the one you stand in, else every project)')
    .option('--json', 'print the table as JSON')
    .addOption(transportOption())
    .action(async (options: { idle?: string; yes?: boolean; discardChanges?: boolean; project?: string; json?: boolean; transport?: string }) =>
      (await import('../commands/prune.js')).prune(options),
    );
}
