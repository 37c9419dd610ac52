// The dashboard: `piko ui` signs this browser in to the server's page (starting a server first
// when none runs).
import type { Command } from 'commander';

export function addUiCommands(program: Command): void {
  program
    .command('ui')
    .description('open the dashboard in your browser, signed in with a one-time link (starts `piko server` in the background when none runs)')
    .option('--no-open', 'print the sign-in link instead of opening a browser')
    .option('-p, --port <port>', 'the port of the server it starts when none runs; 0 picks a free one', '19876')
    .action(async (options: { open: boolean; port: string }) => (await import('../commands/ui.js')).ui(options));
}
