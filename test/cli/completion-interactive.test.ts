// The completion scripts in each shell's own line editor, on a terminal: tmux runs the shell,
// the test types a line and Tab, and reads the screen. completion.test.ts covers what is
// offered where; this shows that the shells, as a user has them, take the scripts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cleanup, eventually, PIKO_BIN, tempDir } from '../helpers/fixtures.js';
import { describeShell, world, type Shell, type World } from './completion-shells.js';

let w: World;
beforeAll(async () => {
  w = await world();
});
afterAll(cleanup);

/** Each shell started bare, and what loads the script into it. */
const SHELLS: Record<Shell, { command: string; setup: string }> = {
  bash: { command: 'bash --norc --noprofile', setup: 'source <(piko completion bash)' },
  zsh: { command: 'zsh -f', setup: 'autoload -Uz compinit && compinit -u -D && source <(piko completion zsh)' },
  fish: { command: 'fish --no-config', setup: 'source (piko completion fish | psub)' },
};

let servers = 0;

/** Types `line` and `keys` into `shell` on a terminal in the shop project; resolves with the screen once it matches `expected`. */
async function typed(shell: Shell, line: string, keys: string[], expected: RegExp, setup = SHELLS[shell].setup): Promise<string> {
  const socket = `piko-completion-${process.pid}-${servers++}`;
  const tmux = (...args: string[]) => execa('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: w.env, extendEnv: false, reject: false });
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'shell')).stdout;
  try {
    const started = await tmux('new-session', '-d', '-s', 'shell', '-x', '160', '-y', '40', '-c', w.shop, SHELLS[shell].command);
    if (started.exitCode !== 0) throw new Error(`tmux did not start ${shell}: ${started.stderr}`);
    // Typed only once the shell has loaded the script and said so on a line of its own.
    await tmux('send-keys', '-t', 'shell', `${setup}; echo piko-ready`, 'Enter');
    await eventually(`${shell} to load the script`, async () => /^piko-ready\s*$/m.test(await screen()));
    await tmux('send-keys', '-t', 'shell', '-l', line);
    await tmux('send-keys', '-t', 'shell', ...keys);
    return await eventually(`${shell} to show ${expected} after ${JSON.stringify(line)} and ${keys.join(' ')}`, async () => {
      const now = await screen();
      return expected.test(now) && now;
    });
  } finally {
    await tmux('kill-server');
  }
}

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  describeShell(shell, `completion on a terminal, in ${shell}`, () => {
    it('completes an option on the line, and lists the services of an environment', async () => {
      const line = await typed(shell, 'piko create feat-x --br', ['Tab'], /piko create feat-x --branch/);
      expect(line).toContain('piko create feat-x --branch');
      // bash lists what fits on a second Tab; zsh and fish on the first.
      const listed = await typed(shell, 'piko exec feat-a ', ['Tab', 'Tab'], /\bdb\s+web\b/);
      expect(listed).toMatch(/\bdb\s+web\b/);
    });
  });
}

describeShell('zsh', 'completion on a terminal, in zsh, from $fpath', () => {
  it('is found by compinit as a file named _piko, and completes the same', async () => {
    const folder = tempDir('piko-zfunc-');
    writeFileSync(join(folder, '_piko'), (await execa('node', [PIKO_BIN, 'completion', 'zsh'], { env: w.env, extendEnv: false })).stdout);
    const setup = `fpath=(${folder} $fpath); autoload -Uz compinit && compinit -u -D`;
    expect(await typed('zsh', 'piko create feat-x --br', ['Tab'], /piko create feat-x --branch/, setup)).toContain('piko create feat-x --branch');
  });
});
