// `piko completion bash|zsh|fish`, driven in each real shell: the script is sourced as a user
// would, the shell's completion function is called with the words of a line, and what it offers
// is read back. The names come from real environments in a private PIKO_HOME. Driving each
// shell's line editor on a terminal is in completion-interactive.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { BUILTIN_DELIVERIES } from '../../cli/delivery/builtin.js';
import { cleanup, ROOT } from '../helpers/fixtures.js';
import { describeShell, world, type Shell, type World } from './completion-shells.js';

let w: World;
beforeAll(async () => {
  w = await world();
});
afterAll(cleanup);

const sq = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

async function run(file: string, args: string[], cwd: string): Promise<string[]> {
  const result = await execa(file, args, { cwd, env: w.env, extendEnv: false, reject: false });
  if (result.exitCode !== 0 || result.stderr !== '') throw new Error(`${file} exited with ${result.exitCode}: ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** The words bash gives a completion function for `line`: cut at spaces, and at each `=` (COMP_WORDBREAKS). */
function bashWords(line: string): string[] {
  const words = line.split(' ');
  return words.flatMap((word, i) => (word === '' ? (i === words.length - 1 ? [''] : []) : word.split(/(=)/).filter((part) => part !== '')));
}

/** What each shell offers at the end of `line`, typed in `cwd`. */
const offers: Record<Shell, (line: string, cwd: string) => Promise<string[]>> = {
  bash: (line, cwd) => {
    const words = bashWords(line);
    return run('bash', ['--norc', '--noprofile', '-c', [
      'source <(piko completion bash)',
      `COMP_WORDS=(${words.map(sq).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      `COMP_LINE=${sq(line)}`,
      `COMP_POINT=${line.length}`,
      '_piko_complete',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')], cwd);
  },
  // zsh's compadd lives only inside a completion widget: here it is a function that keeps, as the
  // real one matches them, the words that begin with what is typed ($PREFIX), and prints each as
  // it would go on the line (after $IPREFIX, which the script moves an option's `--name=` into).
  zsh: (line, cwd) => {
    const words = line.split(' ').filter((word, i, all) => word !== '' || i === all.length - 1);
    return run('zsh', ['-f', '-c', [
      'compdef() { : }',
      'source <(piko completion zsh)',
      'compadd() { local x; for x in "${@[${@[(i)--]}+1,-1]}"; do [[ $x == "$PREFIX"* ]] && print -r -- "$IPREFIX$x"; done }',
      `words=(${words.map(sq).join(' ')})`,
      `CURRENT=${words.length}`,
      `PREFIX=${sq(words[words.length - 1]!)}`,
      "IPREFIX=''",
      // Its status says whether anything was offered, which the words printed say already.
      '_piko || true',
    ].join('\n')], cwd);
  },
  // fish answers `complete -C` as it would a Tab: each candidate, a tab, its description.
  fish: async (line, cwd) =>
    (await run('fish', ['--no-config', '-c', `source (piko completion fish | psub); complete -C ${sq(line)}`], cwd)).map((out) => out.split('\t')[0]!),
};

/** The commands `piko --help` lists (aliases too). */
async function helpCommands(): Promise<string[]> {
  const help = await run('node', [join(ROOT, 'dist', 'bin', 'piko.js'), '--help'], w.outside);
  const text = help.join('\n');
  return [...text.slice(text.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w|-]*)/gm)].flatMap((m) => m[1]!.split('|'));
}

const sorted = (words: string[]) => [...words].sort();

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  describeShell(shell, `completion in ${shell}`, () => {
    const offered = async (line: string, where: 'shop' | 'blog' | 'outside' = 'shop') => sorted(await offers[shell](line, w[where]));
    // What goes on the line for an option's value typed as --name=value: bash replaces only what
    // follows the `=` (it cut the word there), zsh and fish the whole word.
    const joined = (option: string, values: string[]) => (shell === 'bash' ? values : values.map((v) => `${option}=${v}`));

    it('offers every command the parser has, from its own definition', async () => {
      const commands = (await helpCommands()).filter((c) => c !== 'ls');
      expect(commands).toEqual(expect.arrayContaining(['create', 'destroy', 'exec', 'project', 'shared', 'completion', 'help']));
      expect(await offered('piko ')).toEqual(sorted(commands));
      expect(await offered('piko cre')).toEqual(['create']);
      expect(await offered('piko project ')).toEqual(['help', 'rm']);
      expect(await offered('piko help st')).toEqual(['status']);
    });

    it("offers each command's options, an alias's too", async () => {
      expect(await offered('piko create feat-x --br')).toEqual(['--branch']);
      expect(await offered('piko destroy feat-a --')).toEqual(['--delete-branch', '--discard-changes', '--force', '--help', '--json', '--keep-volumes', '--quiet', '--transport', '--yes']);
      expect(await offered('piko ls --j')).toEqual(['--json']);
      // Where no argument is left to name, the options are what remains.
      expect(await offered('piko list ')).toEqual(['--help', '--json', '-h']);
      expect(await offered('piko up --transport ')).toEqual(['sse', 'stdout', 'websocket']);
      expect(await offered('piko completion ')).toEqual(['bash', 'fish', 'zsh']);
      expect(await offered('piko shared ')).toEqual(['down', 'logs', 'reseed', 'status', 'up']);
    });

    it('offers environments: bare in the project you stand in, project/env for the others', async () => {
      expect(await offered('piko status ')).toEqual(['blog/draft', 'blog/feat-a', 'feat-a', 'feat-b']);
      expect(await offered('piko destroy fe')).toEqual(['feat-a', 'feat-b']);
      expect(await offered('piko up ', 'blog')).toEqual(['draft', 'feat-a', 'shop/feat-a', 'shop/feat-b']);
      // Once a project is typed, every project's are project/env, this one's too.
      expect(await offered('piko vars shop/')).toEqual(['shop/feat-a', 'shop/feat-b']);
      expect(await offered('piko attach ', 'outside')).toEqual(['blog/draft', 'blog/feat-a', 'shop/feat-a', 'shop/feat-b']);
      // A flag without a value does not take the word after it.
      expect(await offered('piko logs -f feat-')).toEqual(['feat-a', 'feat-b']);
    });

    it("offers --from the environments of the create's project, and --branch its branches and tags", async () => {
      expect(await offered('piko create feat-x --from ')).toEqual(['feat-a', 'feat-b']);
      expect(await offered('piko create blog/feat-x --from ')).toEqual(['draft', 'feat-a']);
      expect(await offered('piko create feat-x --branch ')).toEqual(['feat-a', 'feat-b', 'feature-old', 'main', 'v1.0']);
      expect(await offered('piko create feat-x -b feature')).toEqual(['feature-old']);
      expect(await offered('piko create feat-x --branch=feature')).toEqual(joined('--branch', ['feature-old']));
      expect(await offered('piko create blog/feat-x --branch ')).toEqual(['draft', 'feat-a', 'main']);
      // Outside any repository, with two projects registered, none is meant.
      expect(await offered('piko create feat-x --branch ', 'outside')).toEqual([]);
    });

    it("offers projects, and an environment's compose services", async () => {
      expect(await offered('piko project rm ')).toEqual(['blog', 'shop']);
      expect(await offered('piko trust ')).toEqual(['blog', 'shop']);
      expect(await offered('piko shared status --project s')).toEqual(['shop']);
      expect(await offered('piko shared logs -p ')).toEqual(['blog', 'shop']);
      expect(await offered('piko exec feat-a ')).toEqual(['db', 'web']);
      expect(await offered('piko shell shop/feat-a w', 'outside')).toEqual(['web']);
      // A simple environment has none; the command after the service is the user's.
      expect(await offered('piko exec blog/feat-a ')).toEqual([]);
      expect(await offered('piko exec feat-a web ')).toEqual([]);
    });
  });
}

describe('the names the scripts do not take from the parser', () => {
  it('are the built-in transports, and the actions `piko shared` runs', async () => {
    const script = await run('node', [join(ROOT, 'dist', 'bin', 'piko.js'), 'completion', 'bash'], w.outside);
    const kinds = script.find((line) => line.includes("'--transport'") && line.includes('_piko_kinds'))!;
    expect(kinds).toContain(`'w:${BUILTIN_DELIVERIES.map((d) => d.name).join(',')}'`);
    // What shared.ts says when the action is none of its own.
    const actions = /no such action: shared \$\{action\} \(([^)]*)\)/.exec(readFileSync(join(ROOT, 'cli', 'commands', 'shared.ts'), 'utf8'))![1]!.split(', ');
    expect(script.join('\n')).toContain(`_piko_args=('w:${actions.join(',')}' '@')`);
  });

  it('a shell it has no script for is a usage error', async () => {
    const result = await execa('node', [join(ROOT, 'dist', 'bin', 'piko.js'), 'completion', 'tcsh'], { cwd: w.outside, env: w.env, extendEnv: false, reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/tcsh/);
  });
});
