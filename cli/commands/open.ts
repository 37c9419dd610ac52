// `piko open <name>`: the worktree in your editor; `piko open <name> <service>`: that service's
// published port in the browser.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { PikoError } from '../../core/errors.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import type { EnvironmentRow } from '../../core/state/state.js';
import { ExitError } from '../exit.js';
import { BROWSER_OPENER, onPath, openInBrowser } from '../launch.js';
import { print } from '../terminal/print.js';
import { noteText } from '../terminal/say.js';
import { findEnvironment, worktreeOf } from './path.js';

/** Editors tried, in this order, when neither VISUAL nor EDITOR says which. */
const FALLBACK_EDITORS = ['cursor', 'code'];

/**
 * `code -n`, `"/opt/My Editor/bin/edit" --wait`, `vim -c 'set nu'`: an editor command split into
 * words as sh would split it, for the simple cases (quotes and backslashes; no variables, globs
 * or operators). The words are run as they are, never through a shell: an editor setting is a
 * program and its arguments, and a path with a `;` in it must stay a path.
 */
export function splitCommand(text: string, from: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      // Inside double quotes sh keeps a backslash unless it escapes one of these.
      else if (ch === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\') word += text[++i] ?? '';
      else word += ch;
    }
  }
  if (quote) {
    throw new PikoError('PIKO_ERR_USAGE', `${from} has a quote that is never closed: ${text}`, { hint: `Close the quote in ${from}.` });
  }
  if (inWord) words.push(word);
  return words;
}

/** The editor to use: VISUAL, else EDITOR (as the user wrote them), else the first fallback installed. */
function chooseEditor(worktree: string, label: string): { file: string; args: string[]; shown: string } {
  for (const variable of ['VISUAL', 'EDITOR']) {
    const value = process.env[variable];
    if (value === undefined || value.trim() === '') continue;
    const [program, ...args] = splitCommand(value, `$${variable}`);
    const file = onPath(program!);
    if (!file) {
      throw new PikoError('PIKO_ERR_USAGE', `the editor ${program} (from $${variable}) is not installed: it is not on PATH`, {
        hint: `Install it, or set ${variable} to an editor that is (the worktree is at ${worktree}).`,
      });
    }
    return { file, args, shown: value.trim() };
  }
  for (const program of FALLBACK_EDITORS) {
    const file = onPath(program);
    if (file) return { file, args: [], shown: program };
  }
  throw new PikoError('PIKO_ERR_USAGE', `no editor to open ${label} with: VISUAL and EDITOR are not set, and neither ${FALLBACK_EDITORS.join(' nor ')} is on PATH`, {
    hint: `Set EDITOR (or VISUAL) to your editor, e.g. \`export EDITOR="code -n"\` or \`export EDITOR=vim\` (the worktree is at ${worktree}).`,
  });
}

/**
 * Runs the editor on this terminal and waits for it. A terminal editor (vim, nano) needs the
 * terminal until it quits; a GUI one's command (code, cursor) hands the folder to the app and
 * returns at once, so both are run the same way.
 */
async function runEditor(file: string, args: string[], cwd: string): Promise<void> {
  // As system(3) does: a Ctrl-C or Ctrl-\ meant for the editor must not end piko under it,
  // which would hand the terminal back to the shell while the editor still draws on it.
  const ignore = () => {};
  const signals = ['SIGINT', 'SIGQUIT'] as const;
  for (const signal of signals) process.on(signal, ignore);
  try {
    const child = spawn(file, args, { cwd, stdio: 'inherit' });
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((done) => {
      child.once('error', done);
      child.once('exit', (code, signal) => done({ code, signal }));
    });
    if (ended instanceof Error) throw new PikoError('PIKO_ERR_USAGE', `the editor ${file} could not start: ${ended.message}`);
    if (ended.signal) throw new ExitError(128 + (osConstants.signals[ended.signal] ?? 1));
    if (ended.code !== 0) throw new ExitError(ended.code ?? 1);
  } finally {
    for (const signal of signals) process.off(signal, ignore);
  }
}

/** The first TCP port `service` publishes on the host, among the environment's own services and the shared ones it uses. */
function publishedPort(environment: EnvironmentRow, service: string): PortBinding | undefined {
  const tcp = (ports: PortBinding[]) => ports.find((p) => p.protocol === 'tcp');
  return (
    tcp(environment.ports.filter((p) => p.service === service)) ??
    tcp(environment.shared?.find((use) => use.service === service)?.ports ?? [])
  );
}

function servicesWithPorts(environment: EnvironmentRow): string[] {
  const own = environment.ports.filter((p) => p.protocol === 'tcp').map((p) => p.service);
  const shared = (environment.shared ?? []).filter((use) => use.ports.some((p) => p.protocol === 'tcp')).map((use) => use.service);
  return [...new Set([...own, ...shared])];
}

export async function open(name: string, service: string | undefined): Promise<void> {
  const { project, environment } = await findEnvironment(name);
  const label = `${project.name}/${environment.name}`;
  if (service === undefined) {
    const worktree = worktreeOf(project, environment);
    const editor = chooseEditor(worktree, label);
    print(noteText(`opening ${worktree} in ${editor.shown}`));
    await runEditor(editor.file, [...editor.args, worktree], worktree);
    return;
  }
  const port = publishedPort(environment, service);
  if (!port) {
    const others = servicesWithPorts(environment);
    throw new PikoError('PIKO_ERR_USAGE', `${label} has no published port for ${service} (${others.length > 0 ? `services with one: ${others.join(', ')}` : 'none of its services publishes one'})`, {
      hint:
        others.length > 0
          ? `\`piko open ${label} ${others[0]}\` opens ${others[0]}'s; \`piko status ${label}\` lists every port.`
          : `Publish a port for the service in the compose file (ports:), then \`piko restart ${label}\`; \`piko open ${label}\` opens its worktree.`,
    });
  }
  const url = `http://localhost:${port.hostPort}`;
  if (environment.status === 'stopped' && environment.ports.includes(port)) {
    process.stderr.write(noteText(`${label} is stopped, so nothing answers there yet: \`piko up ${label}\` starts it`));
  }
  const opener = onPath(BROWSER_OPENER);
  if (!opener) {
    process.stderr.write(noteText(`no ${BROWSER_OPENER} on PATH to open a browser with: open this address yourself`));
    print(`${url}\n`);
    return;
  }
  print(noteText(`opening ${url} (${service} of ${label}) with ${BROWSER_OPENER}`));
  await openInBrowser(opener, url);
}
