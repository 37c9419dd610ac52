// `piko ui`: signs a browser in to the dashboard. It finds the running server (or starts one in
// the background), asks it for a one-time code with the token only this user can read, and
// opens the sign-in link it makes of it: the browser trades it for a session (a cookie, and a
// key for the page), and never sees the token.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PikoError } from '../../core/errors.js';
import { pikoHome } from '../../core/paths.js';
import { readServerInfo } from '../../core/server-info.js';
import { BROWSER_OPENER, onPath, openInBrowser } from '../launch.js';
import { findServer, type ServerAddress } from '../remote/discovery.js';
import { print } from '../terminal/print.js';
import { noteText } from '../terminal/say.js';

/** How long a server started here has to write server.json. */
const START_TIMEOUT_MS = 20_000;

interface Found extends ServerAddress {
  /** Set when it was started here. */
  started?: { pid: number; log: string };
}

export async function ui(options: { open: boolean; port: string }): Promise<void> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new PikoError('PIKO_ERR_USAGE', `--port must be a whole number from 0 to 65535, got ${JSON.stringify(options.port)}`);
  const home = pikoHome();
  const server: Found = findServer(home) ?? (await startServer(home, port));
  if (server.started) {
    const { pid, log } = server.started;
    process.stderr.write(noteText(`started a piko server in the background (pid ${pid}, ${server.url}); its output goes to ${log}; stop it with \`kill ${pid}\``));
  }
  const { url, expiresAt } = await askForCode(server);
  const seconds = Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
  const opener = options.open && !process.env.PIKO_UI_NO_OPEN ? onPath(BROWSER_OPENER) : undefined;
  if (opener) {
    process.stderr.write(noteText(`opening the dashboard with ${BROWSER_OPENER}; if no browser shows it, open this link (it signs you in once, within ${seconds}s):`));
    await openInBrowser(opener, url, `Open ${url} yourself (it signs you in once).`);
  } else {
    const why = !options.open || process.env.PIKO_UI_NO_OPEN ? '' : ` (no ${BROWSER_OPENER} on PATH to open a browser with)`;
    process.stderr.write(noteText(`open this link in your browser${why}: it signs you in to the dashboard once, within ${seconds}s`));
  }
  print(`${url}\n`);
}

/** Asks the server for a one-time code and makes the sign-in link of it; what goes wrong says what to do. */
async function askForCode(server: Found): Promise<{ url: string; expiresAt: string }> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/ui/codes', server.url), { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new PikoError('PIKO_ERR_SERVER_UNREACHABLE', `the piko server at ${server.url} does not answer (${cause})`, {
      hint: 'If it stopped without removing $PIKO_HOME/server.json, or another program now has its pid, remove that file and run `piko ui` again.',
    });
  }
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; expiresAt?: string; error?: string };
  if (response.status === 404) {
    throw new PikoError('PIKO_ERR_USAGE', `the piko server at ${server.url} has no dashboard: it is an older piko`, {
      hint: 'Stop it (Ctrl-C where it runs, or `kill` its pid from $PIKO_HOME/server.json) and run `piko ui` again: it starts a new one.',
    });
  }
  // The link is made here, from the code alone: what gets opened is never an address a server chose.
  if (!response.ok || typeof body.code !== 'string' || !/^[0-9a-f]{32}$/.test(body.code) || !body.expiresAt) {
    throw new PikoError('PIKO_ERR_USAGE', `the piko server at ${server.url} would not make a sign-in link (${response.status}: ${body.error ?? 'no reason given'})`, {
      hint: 'With PIKO_SERVER_URL set, PIKO_TOKEN must be that server\'s token; otherwise run `piko ui` as the user who started the server.',
    });
  }
  const url = new URL('/ui/login', server.url);
  url.searchParams.set('code', body.code);
  return { url: url.href, expiresAt: body.expiresAt };
}

/** The built entry (dist/bin/piko.js), beside this command's own built file. */
function pikoEntry(): string {
  const beside = fileURLToPath(new URL('./piko.js', import.meta.url));
  return existsSync(beside) ? beside : process.argv[1]!;
}

/**
 * Starts `piko server` detached from this terminal (it outlives `piko ui`), its output appended
 * to $PIKO_HOME/server.log, and waits until its server.json names it.
 */
async function startServer(home: string, port: number): Promise<Found> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const log = join(home, 'server.log');
  const fd = openSync(log, 'a', 0o600);
  const start = statSync(log).size;
  let child;
  try {
    child = spawn(process.execPath, [pikoEntry(), 'server', '--port', String(port)], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new PikoError('PIKO_ERR_USAGE', `could not start \`${process.execPath} ${pikoEntry()} server\``, { hint: 'Run `piko server` yourself, then `piko ui`.' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${code}`));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const info = readServerInfo(home);
    if (info?.pid === pid) return { url: info.url, token: info.token, started: { pid, log } };
    const tail = (): string => readFileSync(log, 'utf8').slice(start).trim().split('\n').slice(-5).join('\n  ');
    if (exited !== undefined) {
      throw new PikoError('PIKO_ERR_SERVER_UNREACHABLE', `the piko server it started ${exited}:\n  ${tail()}`, {
        hint: `Its output is in ${log}. \`piko server\` in a terminal of its own shows what goes wrong; \`piko ui --port 0\` starts one on a free port.`,
      });
    }
    if (Date.now() > deadline) {
      throw new PikoError('PIKO_ERR_SERVER_UNREACHABLE', `the piko server it started (pid ${pid}) did not say where it listens within ${START_TIMEOUT_MS / 1000}s`, {
        hint: `Its output is in ${log}; stop it with \`kill ${pid}\`.`,
      });
    }
    // An outside process: nothing to wait on but the file it writes.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
