// What a stage is and what it gets while it runs: the types every stage plugin and the engine share.
import type { PikoError } from '../errors.js';
import type { LogSource } from '../protocol/messages.js';
import type { RunResult } from './exec.js';
import type { Operation } from './operation.js';
import type { StreamWriter } from './stream-writer.js';

export interface StageDefinition {
  /** Unique within an operation: `git`, `docker`, `script:setup`… */
  name: string;
  /** The tag of its output; defaults to `name`. */
  source?: LogSource;
  /** Its position (see STAGE_ORDER); `before`/`after` another stage's name take precedence. */
  order: number;
  before?: string | undefined;
  after?: string | undefined;
  /** Where the config defines it (`stages[0]`), for errors that name the key to fix. */
  key?: string | undefined;
  /** The config file that defines it (`.piko.yml`), named in front of such errors. */
  file?: string | undefined;
  /** A failure is a warning: no rollback, the operation goes on. */
  optional?: boolean;
  /** Default timeout of each command the stage runs through `ctx.exec`. */
  timeoutMs?: number | undefined;
  /** The plugin that added it, named in errors. */
  plugin: string;
  /** A reason to skip the stage this time, or undefined to run it. */
  skip?(ctx: StageContext): string | undefined;
  run(ctx: StageContext): Promise<void>;
  /**
   * Undoes what `run` did. Also called for the stage that failed, so it must undo only what
   * its own run recorded as done (never a worktree or branch it found already there).
   */
  rollback?(ctx: StageContext): Promise<void>;
}

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Without the environment's variables, and without any PIKO_* piko itself was given: for a
   * program that outlives the operation and others share (a tmux server it may start).
   */
  bare?: boolean;
  timeoutMs?: number;
  /** Return an unsuccessful result instead of throwing the stage's error. */
  allowFailure?: boolean;
}

export interface StageContext {
  readonly operation: Operation;
  readonly stage: StageDefinition;
  readonly source: LogSource;
  readonly stdout: StreamWriter;
  readonly stderr: StreamWriter;
  /** Aborted when the operation is cancelled (never during rollback). */
  readonly signal: AbortSignal;
  /** A line of piko's own under this stage's source. */
  info(text: string): void;
  warn(text: string): void;
  /** Runs a command in the worktree with every PIKO_* variable, its output streamed. */
  exec(file: string, args: readonly string[], options?: ExecOptions): Promise<RunResult>;
}

export interface StageRegistry {
  add(stage: StageDefinition): void;
}

export interface StageResult {
  ok: boolean;
  durationMs: number;
  error?: PikoError;
}
