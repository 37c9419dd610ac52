// A quick question to a program (docker, git, a database client inside a container): argument
// array, no shell, no terminal, its output collected. Never rejects: a program that is missing,
// fails or is stopped is an answer too.
import { execFile } from 'node:child_process';

export interface Ran {
  /** The exit code; undefined when the program could not be started (`code` says why) or was stopped. */
  exitCode: number | undefined;
  /** Why it could not start (`ENOENT`), when it could not. */
  code: string | undefined;
  /** Whether it was stopped for taking longer than `timeout`. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export function query(file: string, args: readonly string[], options: { timeout: number; signal?: AbortSignal | undefined }): Promise<Ran> {
  return new Promise((resolve) => {
    // `env` given, not inherited: the environment as this module sees it, which is what a test sets.
    execFile(file, args, { env: process.env, timeout: options.timeout, maxBuffer: 64 * 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string; killed?: boolean }) | null;
      resolve({
        exitCode: !failure ? 0 : typeof failure.code === 'number' ? failure.code : undefined,
        code: typeof failure?.code === 'string' ? failure.code : undefined,
        timedOut: failure?.killed === true && !options.signal?.aborted,
        stdout,
        stderr,
      });
    });
  });
}

/** Why a query failed, in a line: `not installed`, or the first thing it said on stderr. */
export function whyFailed(ran: Ran, timeout: number): string {
  if (ran.code === 'ENOENT') return 'not installed';
  if (ran.timedOut) return `no answer within ${timeout / 1000} s`;
  return ran.stderr.split('\n').find((line) => line.trim() !== '')?.trim() ?? `exited with code ${ran.exitCode ?? ran.code}`;
}

export const nonEmptyLines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
