// What the shell completion scripts know without asking piko: every command, its subcommands,
// options and arguments, read from the commander program itself so that they never drift
// from the parser. What a value names (an environment, a project, a branch, a compose service)
// the parser does not say; the tables below do, by the argument's or option's name. The names
// themselves are asked for as the user types (`piko __complete`, see cli/complete.ts).
import type { Argument, Command, Option } from 'commander';

/** The names `piko __complete <kind>` answers with. */
export type NameKind = 'envs' | 'project-envs' | 'projects' | 'branches' | 'services';

/** What a value may be: names piko looks up, a fixed list of words, or anything (nothing offered). */
export type ValueKind = { names: NameKind } | { words: string[] } | { any: true };

export interface OptionSpec {
  /** `-b`, `--branch`: every spelling. */
  flags: string[];
  description: string;
  /** Absent for a flag that takes no value. */
  value?: ValueKind;
}

export interface ArgumentSpec {
  name: string;
  value: ValueKind;
  variadic: boolean;
}

export interface CommandSpec {
  /** From the root: [] for piko itself, ['project', 'rm']. */
  path: string[];
  name: string;
  aliases: string[];
  description: string;
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  subcommands: CommandSpec[];
}

const ANY: ValueKind = { any: true };

/**
 * An argument's value by its name, and where one command's argument of that name means
 * something else, by `<command path> <argument>`. A name not here gets nothing offered.
 */
const ARGUMENTS: Record<string, ValueKind> = {
  name: { names: 'envs' },
  env: { names: 'envs' },
  project: { names: 'projects' },
  service: { names: 'services' },
  // A new environment's name: nothing that exists fits.
  'create name': ANY,
  'project rm name': { names: 'projects' },
  // `shared logs [service]` names one of the shared services, which only the config knows.
  'shared service': ANY,
  // The parser has no list of them (shared.ts's switch has): kept in step by a test.
  'shared action': { words: ['status', 'up', 'down', 'logs', 'reseed'] },
};

/** An option's value by its long name (`--transport` → `transport`). */
const OPTIONS: Record<string, ValueKind> = {
  branch: { names: 'branches' },
  // `--from` names an environment of the create's own project, bare (core/prepare/create.ts).
  from: { names: 'project-envs' },
  project: { names: 'projects' },
  // The built-in deliveries (cli/delivery/builtin.ts; a test keeps them in step); plugins may add more.
  transport: { words: ['websocket', 'sse', 'stdout'] },
};

function optionSpec(option: Option): OptionSpec {
  const flags = [option.short, option.long].filter((flag): flag is string => flag !== undefined);
  const spec: OptionSpec = { flags, description: option.description };
  if (option.required || option.optional) {
    const long = option.long?.replace(/^--/, '') ?? '';
    spec.value = option.argChoices ? { words: option.argChoices } : (OPTIONS[long] ?? ANY);
  }
  return spec;
}

function argumentSpec(path: string[], argument: Argument, siblings: string[]): ArgumentSpec {
  const name = argument.name();
  let value: ValueKind;
  if (argument.argChoices) value = { words: argument.argChoices };
  // commander's own `help [command]`: the commands beside it.
  else if (path[path.length - 1] === 'help' && name === 'command') value = { words: siblings.filter((c) => c !== 'help') };
  else value = ARGUMENTS[[...path, name].join(' ')] ?? ARGUMENTS[name] ?? ANY;
  return { name, value, variadic: argument.variadic };
}

/** The completion spec of `command` (the program itself at the root), as its help shows it. */
export function commandSpec(command: Command, path: string[] = [], siblings: string[] = []): CommandSpec {
  const help = command.createHelp();
  const subcommands = help.visibleCommands(command);
  const names = subcommands.map((sub) => sub.name());
  return {
    path,
    name: command.name(),
    aliases: command.aliases(),
    description: command.description(),
    options: help.visibleOptions(command).map(optionSpec),
    arguments: command.registeredArguments.map((argument) => argumentSpec(path, argument, siblings)),
    subcommands: subcommands.map((sub) => commandSpec(sub, [...path, sub.name()], names)),
  };
}

/** Every command of the tree, the root first. */
export function everyCommand(root: CommandSpec): CommandSpec[] {
  return [root, ...root.subcommands.flatMap(everyCommand)];
}

/** The first line of a description, cut to what fits beside a candidate in a menu. */
export function shortDescription(text: string, width = 72): string {
  const line = text.split('\n')[0]!.trim();
  return line.length <= width ? line : `${line.slice(0, width - 1).trimEnd()}…`;
}

/**
 * A command as the scripts hold it, in words a shell takes apart without quoting: a value's
 * kind is `-` (a flag without one), `@` (anything), `@<names>` (`piko __complete <names>`), or
 * `w:<word>,<word>` (those words); an argument's ends in `...` when it takes the rest.
 */
export interface ShellCommand {
  /** `''` for piko itself, `project rm`. */
  path: string;
  subcommands: { name: string; description: string }[];
  /** `alias=name`. */
  aliases: string[];
  flags: { flag: string; kind: string; description: string }[];
  arguments: string[];
}

/** What a shell may take as a bare word: every other word is left out of the script. */
const PLAIN = /^[\w.@+-]+$/;

function kindCode(value: ValueKind | undefined): string {
  if (value === undefined) return '-';
  if ('names' in value) return `@${value.names}`;
  if ('words' in value) {
    const words = value.words.filter((word) => PLAIN.test(word));
    return words.length > 0 ? `w:${words.join(',')}` : '@';
  }
  return '@';
}

export function shellCommands(root: CommandSpec): ShellCommand[] {
  return everyCommand(root).map((command) => ({
    path: command.path.join(' '),
    subcommands: command.subcommands.filter((sub) => PLAIN.test(sub.name)).map((sub) => ({ name: sub.name, description: shortDescription(sub.description) })),
    aliases: command.subcommands.flatMap((sub) => sub.aliases.filter((alias) => PLAIN.test(alias)).map((alias) => `${alias}=${sub.name}`)),
    flags: command.options.flatMap((option) =>
      option.flags.filter((flag) => PLAIN.test(flag)).map((flag) => ({ flag, kind: kindCode(option.value), description: shortDescription(option.description) })),
    ),
    arguments: command.arguments.map((argument) => `${kindCode(argument.value)}${argument.variadic ? '...' : ''}`),
  }));
}

/** `text` in single quotes, for bash and zsh. */
export const shQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;
