// Runs one child process for a stage: argument arrays only (names never reach a shell), its own
// process group so a timeout or cancel can stop the whole tree, and its output streamed into
// the stage's StreamWriters as it comes, never buffered until the end.
import { execa } from 'execa';
import { PikoError } from '../errors.js';
import type { StreamWriter } from './stream-writer.js';

export interface RunOptions {
  cwd: string;
  /** Added to the parent's environment (or, with `extendEnv: false`, all of it). */
  env?: Record<string, string>;
  extendEnv?: boolean;
  stdout: StreamWriter;
  stderr: StreamWriter;
  /** Aborting kills the process group; the result then has `killed` set. */
  signal?: AbortSignal;
  /** Kill the process group after this many ms; the result then has `timedOut` set. */
  timeoutMs?: number;
  /** Told the process group's id when the command starts, and undefined when it ends. */
  onProcess?: (pid: number | undefined) => void;
}

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  killed: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError: string | undefined;
}

/** How long a child's leftover background processes may keep its output open after it exits. */
const OUTPUT_GRACE_MS = 500;
/** How long a killed process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3000;

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Process groups of the commands running now, for `killRunningCommands`. */
const running = new Set<number>();

/**
 * SIGKILLs the process group of every command still running, for a process about to exit
 * without waiting (a second Ctrl-C): its commands must not outlive it.
 */
export function killRunningCommands(): void {
  for (const pid of running) killGroup(pid, 'SIGKILL');
}

export async function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    extendEnv: options.extendEnv ?? true,
    stdin: 'ignore',
    buffer: false,
    detached: true,
    reject: false,
    encoding: 'buffer',
  });
  child.stdout.pipe(options.stdout, { end: false });
  child.stderr.pipe(options.stderr, { end: false });
  if (child.pid !== undefined) {
    running.add(child.pid);
    options.onProcess?.(child.pid);
  }

  let timedOut = false;
  let killed = false;
  let forceKill: NodeJS.Timeout | undefined;
  const stop = (): void => {
    killGroup(child.pid, 'SIGTERM');
    forceKill ??= setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  const onAbort = (): void => {
    killed = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stop();
        }, options.timeoutMs);

  // A script that leaves a background process behind (`server &`) would otherwise hold its
  // output pipes open, and the stage, for as long as that process lives.
  let grace: NodeJS.Timeout | undefined;
  child.once('exit', () => {
    grace = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    }, OUTPUT_GRACE_MS);
  });

  try {
    const result = await child;
    const spawnError =
      result.exitCode === undefined && result.signal === undefined ? result.shortMessage : undefined;
    return { exitCode: result.exitCode, signal: result.signal, timedOut, killed, spawnError };
  } finally {
    if (child.pid !== undefined) {
      running.delete(child.pid);
      options.onProcess?.(undefined);
    }
    clearTimeout(timer);
    clearTimeout(grace);
    clearTimeout(forceKill);
    options.signal?.removeEventListener('abort', onAbort);
    child.stdout.unpipe(options.stdout);
    child.stderr.unpipe(options.stderr);
    options.stdout.flush();
    options.stderr.flush();
  }
}

/** `git worktree add …` as a person would type it, for error messages. */
export function displayCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Turns an unsuccessful result into the error a user sees: which stage, which command, what
 * exit code (or signal, timeout, or why it could not start).
 */
export function commandError(stage: string, command: string, result: RunResult, timeoutMs?: number): PikoError {
  const shown = command.length > 200 ? `${command.slice(0, 197)}...` : command;
  if (result.spawnError !== undefined) {
    return new PikoError('PIKO_ERR_STAGE_FAILED', `${stage} failed: \`${shown}\` could not start (${result.spawnError})`, {
      stage,
      command,
    });
  }
  if (result.timedOut) {
    const seconds = timeoutMs === undefined ? '' : ` after ${timeoutMs / 1000} s`;
    return new PikoError('PIKO_ERR_STAGE_FAILED', `${stage} failed: \`${shown}\` timed out${seconds} and was killed`, {
      stage,
      command,
    });
  }
  if (result.exitCode === undefined) {
    return new PikoError('PIKO_ERR_STAGE_FAILED', `${stage} failed: \`${shown}\` was killed by ${result.signal ?? 'a signal'}`, {
      stage,
      command,
    });
  }
  return new PikoError('PIKO_ERR_STAGE_FAILED', `${stage} failed: \`${shown}\` exited with code ${result.exitCode}`, {
    stage,
    command,
    exitCode: result.exitCode,
  });
}
