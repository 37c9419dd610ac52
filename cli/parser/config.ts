// The commands that show the project's configuration: what is in force, and its JSON Schema.
import type { Command } from 'commander';

export function addConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('the configuration in force for an environment: defaults filled in, the environments: glob that matched, where each value came from')
    .argument('[env]', 'environment name, or project/name, created or not (default: the one whose worktree you are in, else the project you stand in, no environment applied)')
    .option('-p, --project <name>', 'the project (default: the one you stand in); alone: its settings, no environment applied')
    .option('--json', 'print JSON: each key with its value and source')
    .action(async (name: string | undefined, options: { json?: boolean; project?: string }) => (await import('../commands/config.js')).config(name, options));

  // An environment named `schema` is `piko config <project>/schema`.
  config
    .command('schema')
    .description('print the JSON Schema of the config file, for editors (the package ships it as dist/bin/piko.schema.json)')
    .action(async () => (await import('../commands/config.js')).schema());
}
