// The commands that take you to an environment: its folder, your editor, its pages in the browser.
import type { Command } from 'commander';

export function addWorkspaceCommands(program: Command): void {
  program
    .command('path')
    .description('print the environment\'s worktree path and nothing else: cd "$(piko path <name>)"')
    .argument('<name>', 'environment name, or project/name')
    .action(async (name: string) => (await import('../commands/path.js')).path(name));

  program
    .command('open')
    .description("open the environment's worktree in your editor ($VISUAL, $EDITOR, else cursor or code), or a service's published port in the browser")
    .argument('<name>', 'environment name, or project/name')
    .argument('[service]', 'a service with a published port: opens http://localhost:<its port> in the browser')
    .action(async (name: string, service: string | undefined) => (await import('../commands/open.js')).open(name, service));
}
