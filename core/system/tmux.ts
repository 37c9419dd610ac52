// tmux, as piko uses it: one session per environment, named `piko/<project>/<env>`. Set
// PIKO_TMUX_SOCKET to keep piko's sessions on a server of their own (`tmux -L <socket>`).
import { execFile } from 'node:child_process';

export interface TmuxResult {
  /** tmux's exit code; 127 when it is not installed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs tmux with what it prints kept, never rejecting. */
export function tmux(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TmuxResult> {
  return new Promise((resolve) => {
    execFile('tmux', args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const tmuxSession = (project: string, environment: string): string => `piko/${project}/${environment}`;

/**
 * tmux's arguments for the server at `socket` (the path a session was made on) when there is
 * one, so an environment's session is found wherever it was made, whatever TMUX_TMPDIR, TMUX or
 * PIKO_TMUX_SOCKET say now; else for PIKO_TMUX_SOCKET's server when one is set.
 */
export function tmuxArgs(socket: string | undefined, ...args: string[]): string[] {
  if (socket) return ['-S', socket, ...args];
  const named = process.env.PIKO_TMUX_SOCKET;
  return named ? ['-L', named, ...args] : args;
}

/** Whether tmux runs a session of that exact name, on the server at `socket` when given (false when tmux is not installed). */
export async function hasSession(session: string, socket?: string): Promise<boolean> {
  return (await tmux(tmuxArgs(socket, 'has-session', '-t', `=${session}`))).code === 0;
}
