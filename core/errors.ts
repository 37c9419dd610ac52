// The error catalogue: every error a user can see has a stable code and a line saying what to
// do about it. The README's "Errors" table is checked against this list by
// test/core/errors.test.ts, so the two cannot drift apart.

import type { DirtyWorktree } from './protocol/messages.js';

export const ERRORS = {
  PIKO_ERR_NAME_INVALID: 'Use lowercase letters, digits, `-` or `_`, starting with a letter or digit (at most 63).',
  PIKO_ERR_ENV_EXISTS: 'Pick another name, or `piko destroy <name>` first.',
  PIKO_ERR_ENV_NOT_FOUND: 'See `piko list` for the environments that exist.',
  PIKO_ERR_ENV_BUSY: 'Wait for the running operation on it to finish.',
  PIKO_ERR_PROJECT_EXISTS: 'Each project needs its own name: rename one of the repository folders.',
  PIKO_ERR_PROJECT_IN_USE: 'Destroy its environments first, or pass --force to destroy them.',
  PIKO_ERR_PROJECT_UNKNOWN: 'Run `piko init` in the repository to register it.',
  PIKO_ERR_NOT_GIT_REPO: 'Run the command inside a git repository with at least one commit.',
  PIKO_ERR_BRANCH: 'Check the branch name with `git branch --list`.',
  PIKO_ERR_CONFIG_INVALID: 'Fix the named key in the named file.',
  PIKO_ERR_COMPOSE_INVALID: 'Fix the compose file; `docker compose config` shows what docker makes of it.',
  PIKO_ERR_PORTS_EXHAUSTED: 'Destroy environments you no longer use: their ids and port blocks are reused.',
  PIKO_ERR_DOCKER_UNAVAILABLE: 'Start the Docker daemon (`docker info` must work), or remove the compose file for a simple environment.',
  PIKO_ERR_STAGE_FAILED: 'Read the stage output above, fix the cause and run the command again.',
  PIKO_ERR_WORKTREE_DIRTY: 'Commit or stash the changes, or pass `--force` to throw them away.',
  PIKO_ERR_PATH_EXISTS: 'Move or remove the path; piko never overwrites what it did not create.',
  PIKO_ERR_LEFTOVERS: 'Remove what an earlier environment of the name left (`piko doctor` lists it, with the commands), then run the command again.',
  PIKO_ERR_NOT_RUNNING: 'Nothing to cancel: `piko logs <name>` shows how it ended.',
  PIKO_ERR_CANCELLED: 'Nothing to do: what the operation had done was rolled back.',
  PIKO_ERR_LOG_UNWRITABLE: 'Free space on the disk that holds PIKO_HOME, or make $PIKO_HOME/logs writable, then run the command again.',
  PIKO_ERR_STATE: 'Do what the message says about the file it names (move it aside, free space, make it writable), then run the command again.',
  PIKO_ERR_UNTRUSTED: 'Read what the config runs, then approve it: `piko trust <project>` (or the same command with --yes).',
  PIKO_ERR_PLUGIN: 'Fix or remove the named plugin.',
  PIKO_ERR_SERVER_RUNNING: 'Stop the other server, or give this one its own PIKO_HOME.',
  PIKO_ERR_SERVER_UNREACHABLE: 'Check that `piko server` runs and that PIKO_SERVER_URL and PIKO_TOKEN (or $PIKO_HOME/server.json) match it.',
  PIKO_ERR_INTERRUPTED: 'The environment may be half made: `piko destroy --force <name>` removes what is left.',
  PIKO_ERR_SERVER_LOST: 'The operation may still be running on the server: `piko list` shows where it got to.',
  PIKO_ERR_USAGE: 'See `piko --help`.',
  PIKO_ERR_INTERNAL: 'This is a bug in piko: please report it with the log file.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface PikoErrorDetails {
  stage?: string;
  exitCode?: number;
  command?: string;
  /** For PIKO_ERR_UNTRUSTED: the digest of what was shown, which a client may send back to approve exactly that. */
  approval?: string;
  /** For PIKO_ERR_WORKTREE_DIRTY: what a client may list and offer to throw away. */
  dirty?: DirtyWorktree;
  /** The hint with the real names in it (`piko destroy feat-1`), when the thrower knows them; else the catalogue's. */
  hint?: string;
  cause?: unknown;
}

/**
 * The mark `instanceof PikoError` looks for. The `piko` command is built into several files, each
 * with its own copy of this class, and an error thrown in a command's file is caught in the
 * entry's: the mark, registered globally, makes either copy's error a PikoError to both.
 */
const PIKO_ERROR: unique symbol = Symbol.for('piko.error');

export class PikoError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && PIKO_ERROR in value;
  }

  readonly [PIKO_ERROR] = true;
  readonly code: ErrorCode;
  readonly stage?: string;
  readonly exitCode?: number;
  readonly command?: string;
  readonly approval?: string;
  readonly dirty?: DirtyWorktree;
  private readonly ownHint?: string;

  constructor(code: ErrorCode, message: string, details: PikoErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PikoError';
    this.code = code;
    if (details.stage !== undefined) this.stage = details.stage;
    if (details.exitCode !== undefined) this.exitCode = details.exitCode;
    if (details.command !== undefined) this.command = details.command;
    if (details.approval !== undefined) this.approval = details.approval;
    if (details.dirty !== undefined) this.dirty = details.dirty;
    if (details.hint !== undefined) this.ownHint = details.hint;
  }

  get hint(): string {
    return this.ownHint ?? ERRORS[this.code];
  }
}

/** Any thrown value as a PikoError, keeping its message (unknown errors are internal ones). */
export function toPikoError(err: unknown): PikoError {
  if (err instanceof PikoError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PikoError('PIKO_ERR_INTERNAL', message, { cause: err });
}
