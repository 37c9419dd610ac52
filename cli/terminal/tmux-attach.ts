// Attaching the terminal to an environment's tmux session (`piko/<project>/<env>`).
import { spawn } from 'node:child_process';
import { tmuxArgs } from '../../core/system/tmux.js';
import { noteText } from './say.js';

/**
 * Attaches this terminal to `session` on the server at `socket` (or switches to it when already
 * inside tmux); resolves with tmux's exit code.
 */
export async function attach(session: string, socket: string | undefined): Promise<number> {
  const args = process.env.TMUX ? ['switch-client', '-t', `=${session}`] : ['attach-session', '-t', `=${session}`];
  const child = spawn('tmux', tmuxArgs(socket, ...args), { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** After a create that made tmux session `session`: attach when this is an interactive terminal; say why when it cannot. */
export async function attachAfterCreate(session: string, socket: string | undefined, project: string, environment: string, say: (text: string) => void): Promise<void> {
  const later = `\`piko attach ${project}/${environment}\` attaches later`;
  if (!process.stdin.isTTY || !process.stdout.isTTY) return say(noteText(`not attaching to tmux session ${session}: not a terminal; ${later}`));
  await attach(session, socket);
}
