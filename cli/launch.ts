// Finding and starting the user's own programs, for the commands that hand something to them
// (`piko open`, `piko ui`): an executable as a shell would find it, and the desktop's opener of
// URLs.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { PikoError } from '../core/errors.js';

/** What opens a URL in the user's browser here. */
export const BROWSER_OPENER = process.platform === 'darwin' ? 'open' : 'xdg-open';

/** The executable `program` names: a path as it is, a bare name looked for on PATH like a shell would. */
export function onPath(program: string): string | undefined {
  const candidates = program.includes('/')
    ? [resolve(program)]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Hands `url` to the desktop's opener and returns once it has started: an opener may stay until
 * the browser it launched quits (xdg-open with a browser that was not running yet), and piko
 * must not wait for that. `hint`: what to do when the opener cannot start.
 */
export async function openInBrowser(opener: string, url: string, hint = `Open ${url} yourself.`): Promise<void> {
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  await new Promise<void>((done, fail) => {
    child.once('spawn', done);
    child.once('error', (err) => fail(new PikoError('PIKO_ERR_USAGE', `${opener} could not start: ${err.message}`, { hint })));
  });
  child.unref();
}
