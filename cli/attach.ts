// Attaching the terminal to an environment's tmux session (`piko/<project>/<env>`).
import { execa } from 'execa';

export const tmuxSession = (project: string, environment: string): string => `piko/${project}/${environment}`;

/** Whether tmux runs a session of that exact name (false when tmux is not installed). */
export async function hasSession(session: string): Promise<boolean> {
  const result = await execa('tmux', ['has-session', '-t', `=${session}`], { reject: false, stdio: 'ignore' });
  return result.exitCode === 0;
}

/** Attaches this terminal to `session` (or switches to it when already inside tmux); resolves with tmux's exit code. */
export async function attach(session: string): Promise<number> {
  const args = process.env.TMUX ? ['switch-client', '-t', `=${session}`] : ['attach-session', '-t', `=${session}`];
  const result = await execa('tmux', args, { stdio: 'inherit', reject: false });
  return result.exitCode ?? 1;
}

/**
 * After a create: attach when the environment has a tmux session and this is an interactive
 * terminal, unless told not to; say why when it does not.
 */
export async function attachAfterCreate(project: string, environment: string, wanted: boolean, say: (text: string) => void): Promise<void> {
  const session = tmuxSession(project, environment);
  if (!(await hasSession(session))) return;
  const later = `\`piko attach ${project}/${environment}\` attaches later`;
  if (!wanted) return say(`piko: not attaching to tmux session ${session} (--no-attach); ${later}`);
  if (!process.stdin.isTTY || !process.stdout.isTTY) return say(`piko: not attaching to tmux session ${session}: not a terminal; ${later}`);
  await attach(session);
}
