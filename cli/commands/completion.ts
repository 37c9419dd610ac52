// `piko completion bash|zsh|fish`: the script that completes piko in that shell, made from the
// program's own commands as the parser has them now (see cli/completion/spec.ts).
import type { Command } from 'commander';
import { bashScript } from '../completion/bash.js';
import { fishScript } from '../completion/fish.js';
import { commandSpec } from '../completion/spec.js';
import { zshScript } from '../completion/zsh.js';
import { print } from '../terminal/print.js';

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript };

export function completion(shell: string, program: Command): void {
  // The parser accepts only these (the argument's choices).
  print(SCRIPTS[shell as keyof typeof SCRIPTS](commandSpec(program)));
}
