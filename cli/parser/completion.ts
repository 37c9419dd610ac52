// `piko completion <shell>`: the shell completion script. The names it offers as you type come
// from `piko __complete`, which cli/piko.ts answers without loading this parser.
import { Argument, type Command } from 'commander';

export function addCompletionCommands(program: Command): void {
  program
    .command('completion')
    .description('print the script that completes piko\'s commands, options and names in your shell: `source <(piko completion bash)`')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: string) => (await import('../commands/completion.js')).completion(shell, program));
}
