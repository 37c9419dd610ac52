// The commands that look into one environment or all of them, or work inside one.
import type { Command } from 'commander';

export function addEnvironmentCommands(program: Command): void {
  program
    .command('status')
    .description('one environment in detail: paths, ports, containers, tmux session, last operation')
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { json?: boolean }) => (await import('../commands/status.js')).status(name, options));

  program
    .command('vars')
    .description('the environment\'s PIKO_* variables, ready for `eval "$(piko vars)"`')
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { json?: boolean }) => (await import('../commands/vars.js')).vars(name, options));

  program
    .command('exec')
    .description('run a command in one of the environment\'s containers (docker compose exec), with this terminal')
    .argument('<name>', 'environment name, or project/name')
    .argument('<service>', 'compose service')
    .argument('[command...]', "what to run (default: the service's shell)")
    .passThroughOptions()
    .action(async (name: string, service: string, command: string[]) => (await import('../commands/exec.js')).exec(name, service, command));

  program
    .command('shell')
    .description("a shell in one of the environment's containers (`shells.<service>` in the config, default sh)")
    .argument('<name>', 'environment name, or project/name')
    .argument('<service>', 'compose service')
    .action(async (name: string, service: string) => (await import('../commands/exec.js')).exec(name, service, []));

  program
    .command('run')
    .description("run the config's scripts.run in the environment's worktree, with its variables")
    .argument('<name>', 'environment name, or project/name')
    .action(async (name: string) => (await import('../commands/exec.js')).run(name));

  program
    .command('attach')
    .description("attach this terminal to the environment's tmux session (switch to it inside tmux)")
    .argument('[name]', 'environment name, or project/name (default: the one whose worktree you are in)')
    .action(async (name: string | undefined) => (await import('../commands/attach.js')).attach(name));

  program
    .command('list')
    .alias('ls')
    .description('list environments: id, name, project, mode, status, branch, path, ports')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => (await import('../commands/list.js')).list(options));
}
