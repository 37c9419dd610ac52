// What a script prints is what the person sees: progress lines drawn with carriage returns,
// colours, escape sequences and bytes that are not UTF-8, on a terminal and off it; and the
// status line, wherever the output goes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, gates, initProject, PIKO_BIN, sandbox, type Sandbox, tempDir, waitForOutput } from '../helpers/fixtures.js';

afterEach(cleanup);

const ESC = '\x1b';
const SPINNER = '[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]';
/** A setup that prints like real tools do: a progress bar, colours, cursor moves, a window title, Latin-1 bytes, CRLF. */
const NOISY = [
  String.raw`printf 'fetch 10%%\r fetch 50%%\rfetch 100%%\n'`,
  String.raw`printf 'done\r\n'`,
  String.raw`printf '\033[31mred\033[0m plain\n'`,
  String.raw`printf 'a\033[2Kb\033[1Ac\n'`,
  String.raw`printf '\033]0;a title\007after the title\n'`,
  String.raw`printf 'caf\351 cr\350me\n'`,
  String.raw`printf 'bell\007 and backspace\010\n'`,
  String.raw`printf 'c1 \302\2332J csi\n'`,
  String.raw`printf 'warn \033[1mbold\033[22m\n' >&2`,
].join('; ');
const CONFIG = `scripts:\n  setup: ${JSON.stringify(NOISY)}\n`;
/** The Latin-1 line as the bytes the script printed. */
const LATIN1 = Buffer.from('[setup] caf\xe9 cr\xe8me\n', 'latin1');

/** Runs `command` (a shell command line) in a pseudo-terminal; `transcript` gets the raw bytes the terminal got. */
function pty(box: Sandbox, command: string, cwd: string, env: Record<string, string> = {}) {
  const transcript = join(tempDir('piko-pty-'), 'transcript');
  const { NO_COLOR: _, ...rest } = box.env;
  const child = execa('script', ['-qfec', command, transcript], {
    cwd,
    env: { ...rest, TERM: 'xterm-256color', ...env },
    extendEnv: false,
    reject: false,
  });
  return { child, transcript: () => readFileSync(transcript) };
}

const piko = (...args: string[]): string => ['node', PIKO_BIN, ...args].map((a) => `'${a}'`).join(' ');

describe('off a terminal (a pipe, a log reader)', () => {
  it('shows what a progress line ended on, no escape sequence or control character, and bytes that are not UTF-8 as they came', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const created = await execa('node', [PIKO_BIN, 'create', 'plain', '--no-attach'], { cwd: repo, env: box.env, encoding: 'buffer', reject: false });
    expect(created.exitCode).toBe(0);
    for (const output of [Buffer.from(created.stdout), Buffer.from((await execa('node', [PIKO_BIN, 'logs', 'plain'], { cwd: repo, env: box.env, encoding: 'buffer' })).stdout)]) {
      const text = output.toString('latin1');
      expect(text).toContain('[setup] fetch 100%\n');
      expect(text).not.toMatch(/fetch 10%|fetch 50%/);
      expect(text).toContain('[setup] done\n');
      expect(text).toContain('[setup] red plain\n');
      expect(text).toContain('[setup] abc\n');
      expect(text).toContain('[setup] after the title\n');
      expect(text).toContain('[setup] bell and backspace\n');
      expect(text).toContain('[setup] c1 2J csi\n');
      expect(text).toContain('[setup] warn bold\n');
      expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
      expect(output.includes(LATIN1)).toBe(true);
      expect(text).not.toContain('\ufffd');
    }
  });

  it('--json keeps the raw data, as the protocol carries it', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const { stdout } = await box.piko(['create', 'raw', '--no-attach', '--json'], repo);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data?: string; encoding?: string });
    const data = lines.filter((m) => m.type === 'log').map((m) => (m.encoding === 'base64' ? Buffer.from(m.data!, 'base64').toString('latin1') : m.data));
    expect(data).toContain('fetch 10%\r fetch 50%\rfetch 100%\n');
    expect(data).toContain(`${ESC}[31mred${ESC}[0m plain\n`);
    expect(data).toContain('caf\xe9 cr\xe8me\n');
  });
});

describe('on a terminal', () => {
  it('keeps the colours a script prints and nothing else that moves the cursor, the progress line under its prefix, the bytes as they came', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': CONFIG });
    const { child, transcript } = pty(box, piko('create', 'coloured', '--no-attach'), repo);
    expect((await child).exitCode).toBe(0);
    const bytes = transcript();
    const text = bytes.toString('latin1');
    const prefix = String.raw`${ESC}\[\d+m\[setup\]${ESC}\[39m `;
    expect(text).toMatch(new RegExp(`${prefix}fetch 100%\r\n`));
    expect(text).not.toMatch(/fetch 10%|fetch 50%/);
    // The script's colour stays and is reset before the next line's prefix.
    expect(text).toMatch(new RegExp(`${prefix}${ESC}\\[31mred${ESC}\\[0m plain${ESC}\\[0m\r\n`));
    expect(text).toMatch(new RegExp(`${prefix}abc\r\n`));
    expect(text).not.toContain(`${ESC}[1A`);
    expect(text).not.toContain(`${ESC}]0;`);
    expect(text).toMatch(new RegExp(`${prefix}bell and backspace\r\n`));
    expect(text).toMatch(new RegExp(`${prefix}c1 2J csi\r\n`));
    // stderr in yellow, the script's bold kept inside it.
    expect(text).toMatch(new RegExp(`${prefix}${ESC}\\[33mwarn ${ESC}\\[1mbold${ESC}\\[22m${ESC}\\[0m${ESC}\\[39m`));
    expect(bytes.includes(Buffer.from('caf\xe9 cr\xe8me\r\n', 'latin1'))).toBe(true);
    expect(text).not.toContain('\xef\xbf\xbd'); // U+FFFD in UTF-8
  });

  it('NO_COLOR takes the colours away and keeps the status line', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: printf '\\033[31mred\\033[0m\\n'; ${gate.wait()}\n` });
    const { child, transcript } = pty(box, piko('create', 'plain', '--no-attach'), repo, { NO_COLOR: '1' });
    await waitForOutput(child.stdout!, new RegExp(`${SPINNER} setup `));
    gate.open();
    expect((await child).exitCode).toBe(0);
    const text = transcript().toString('latin1');
    expect(text).toContain('[setup] red\r\n');
    expect(text).not.toMatch(/\x1b\[[0-9;]*m/);
  });
});

describe('the status line', () => {
  it('is drawn on stderr when stdout is a pipe or a file, and the output stays plain', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo before; ${gate.wait()}; echo after\n` });
    const out = join(tempDir('piko-out-'), 'out.txt');
    const { child } = pty(box, `${piko('create', 'piped', '--no-attach')} > '${out}'`, repo);
    // The terminal (stderr) shows the spinner and the running stage.
    await waitForOutput(child.stdout!, new RegExp(`${SPINNER} setup {2}`));
    gate.open();
    const { stdout: terminal, exitCode } = await child;
    expect(exitCode).toBe(0);
    // Taken away at the end: nothing after the last erase but piko's own lines on stderr.
    expect(terminal.slice(terminal.lastIndexOf(`${ESC}[J`))).not.toMatch(new RegExp(SPINNER));
    const output = readFileSync(out, 'utf8');
    expect(output).toContain('[setup] before\n[setup] after\n');
    expect(output).toContain('piped ready');
    expect(output).not.toContain(ESC);
    expect(output).not.toMatch(new RegExp(SPINNER));
  });

  it('leaves nothing behind when the terminal shrinks: it is redrawn to the new width from its first column', async () => {
    const box = sandbox();
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo start; ${gate.wait()}\n` });
    const dir = tempDir('piko-tty-');
    const { child } = pty(box, `sh -c 'tty > ${dir}/tty; exec ${piko('create', 'a-rather-long-environment-name', '--no-attach').replaceAll("'", '')}'`, repo);
    await waitForOutput(child.stdout!, new RegExp(`${SPINNER} setup {2}.*a-rather-long-environment-name`));
    const terminalName = readFileSync(join(dir, 'tty'), 'utf8').trim();
    await execa('stty', ['-F', terminalName, 'cols', '30']);
    // Redrawn: erased from the start of the old line to the end of the screen, then at most 29 columns.
    await waitForOutput(child.stdout!, new RegExp(`\r${ESC}\\[J${SPINNER} setup .{1,25}…\r`));
    gate.open();
    expect((await child).exitCode).toBe(0);
  });
});
