// The operation engine. Stage plugins tap it to contribute stages; transports and other plugins
// tap it to observe events. It runs an operation's stages in order and, when a stage that is
// not optional fails (or the operation is cancelled), rolls back what was done, in reverse.
import { performance } from 'node:perf_hooks';
import {
  AsyncSeriesHook,
  SyncBailHook,
  SyncHook,
  SyncWaterfallHook,
  type Hook,
} from 'tapable';
import { commandError, displayCommand, run, type RunResult } from './exec.js';
import { PikoError, toPikoError } from './errors.js';
import { Operation, type OperationSpec } from './operation.js';
import type { CompleteMessage, LogMessage, LogSource, OperationMessage, Unsequenced } from './protocol.js';
import { orderStages } from './stage-order.js';
import { TransportRegistry } from './transports.js';
import { environmentInfo } from './state.js';
import { StreamWriter } from './stream-writer.js';

export interface StageDefinition {
  /** Unique within an operation: `git`, `docker`, `script:setup`… */
  name: string;
  /** The tag of its output; defaults to `name`. */
  source?: LogSource;
  /** Its position (see STAGE_ORDER); `before`/`after` another stage's name take precedence. */
  order: number;
  before?: string | undefined;
  after?: string | undefined;
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

export interface PikoPlugin {
  name: string;
  apply(engine: Engine): void;
}

/** How long a rollback command may run before it is killed. */
const ROLLBACK_TIMEOUT_MS = 120_000;

export class Engine {
  readonly hooks = Object.freeze({
    // -- operation ------------------------------------------------------------------------------
    /** After `accepted`, before the first stage. Throwing fails the operation. */
    operationStart: new AsyncSeriesHook<[Operation]>(['operation']),
    /** After the outcome is written to state, before `complete` goes out. Errors become warnings. */
    operationEnd: new AsyncSeriesHook<[Operation, Unsequenced<CompleteMessage>]>(['operation', 'complete']),

    // -- stage registration and ordering ----------------------------------------------------------
    /** Once per operation: stage plugins add their stages for this kind of operation. */
    registerStages: new SyncHook<[StageRegistry, Operation]>(['registry', 'operation']),
    /** Receives the stages sorted by position and before/after; returns the list to run. */
    orderStages: new SyncWaterfallHook<[StageDefinition[], Operation]>(['stages', 'operation']),

    // -- each stage -------------------------------------------------------------------------------
    /** Before a stage runs: return a reason to skip it. */
    skipStage: new SyncBailHook<[StageDefinition, Operation], string | undefined>(['stage', 'operation']),
    /** A stage is about to run (its `stage` start message is out). */
    stageStart: new AsyncSeriesHook<[StageDefinition, Operation]>(['stage', 'operation']),
    /** A stage ran, well or not (its `stage` end message is out). Throwing fails the operation. */
    stageEnd: new AsyncSeriesHook<[StageDefinition, Operation, StageResult]>(['stage', 'operation', 'result']),

    // -- output -----------------------------------------------------------------------------------
    /** Every log line of every stage, with its seq. */
    log: new SyncHook<[LogMessage, Operation]>(['message', 'operation']),
    /** Every protocol message (accepted, stage, log, complete), with its seq: transports tap this. */
    message: new SyncHook<[OperationMessage, Operation]>(['message', 'operation']),

    // -- rollback ---------------------------------------------------------------------------------
    /** A failure is about to undo these stages (last first). */
    rollback: new AsyncSeriesHook<[StageDefinition[], Operation, PikoError]>(['stages', 'operation', 'error']),

    // -- transports -------------------------------------------------------------------------------
    /** When a command needs its transports: plugins add theirs with registry.add(transport). */
    registerTransports: new SyncHook<[TransportRegistry]>(['registry']),
  });

  constructor() {
    for (const [hookName, hook] of Object.entries(this.hooks)) {
      (hook as Hook<unknown[], unknown>).intercept({ register: (tap) => wrapTap(tap, hookName) });
    }
  }

  use(...plugins: PikoPlugin[]): this {
    for (const plugin of plugins) plugin.apply(this);
    return this;
  }

  /** An operation whose messages go through this engine's hooks. */
  operation(spec: OperationSpec): Operation {
    return new Operation(spec, (op, message) => this.emit(op, message));
  }

  /** Every transport the plugins on this engine offer. */
  transports(): TransportRegistry {
    const registry = new TransportRegistry();
    this.hooks.registerTransports.call(registry);
    return registry;
  }

  /** The stages `operation` would run, in order. */
  stagesFor(operation: Operation): StageDefinition[] {
    const stages: StageDefinition[] = [];
    this.hooks.registerStages.call({ add: (stage) => void stages.push(stage) }, operation);
    return this.hooks.orderStages.call(orderStages(stages), operation);
  }

  /** Runs every stage of `operation`; resolves with its one `complete` message (never rejects). */
  async run(operation: Operation): Promise<CompleteMessage> {
    const started = performance.now();
    operation.emit({
      type: 'accepted',
      operation: operation.id,
      action: operation.kind,
      project: operation.project.name,
      environment: operation.environment.name,
    });

    const done: StageDefinition[] = [];
    let failure: PikoError | undefined;
    try {
      await this.hooks.operationStart.promise(operation);
      for (const stage of this.stagesFor(operation)) {
        throwIfCancelled(operation);
        await this.runStage(operation, stage, done);
      }
      throwIfCancelled(operation);
    } catch (err) {
      failure = err instanceof PikoError ? err : (operation.cancelReason ?? toPikoError(err));
    }
    if (failure) {
      await this.rollback(operation, done, failure);
      if (operation.rollbackIncomplete) failure = incompleteRollback(failure, operation);
    }

    try {
      operation.settle(failure);
    } catch (err) {
      failure = toPikoError(err);
    }
    operation.state.finishOperation(operation.id, {
      success: failure === undefined,
      ...(failure && { error: failure.message, stage: failure.stage, exitCode: failure.exitCode }),
    });
    const durationMs = Math.round(performance.now() - started);
    const complete: Unsequenced<CompleteMessage> = failure
      ? {
          type: 'complete',
          success: false,
          error: failure.message,
          code: failure.code,
          hint: failure.hint,
          ...(failure.stage === undefined ? {} : { stage: failure.stage }),
          ...(failure.exitCode === undefined ? {} : { exitCode: failure.exitCode }),
          operation: operation.id,
          durationMs,
        }
      : {
          type: 'complete',
          success: true,
          environment: environmentInfo(operation.environment),
          operation: operation.id,
          durationMs,
        };
    try {
      await this.hooks.operationEnd.promise(operation, complete);
    } catch (err) {
      operation.info('piko', `warning: ${(err as Error).message}`, 'stderr');
    }
    const sent = operation.emit(complete) as CompleteMessage;
    operation.close();
    return sent;
  }

  /** Runs one stage (or skips it); throws when it failed the operation. */
  private async runStage(operation: Operation, stage: StageDefinition, done: StageDefinition[]): Promise<void> {
    const ctx = this.context(operation, stage, operation.signal);
    const reason = this.hooks.skipStage.call(stage, operation) ?? stage.skip?.(ctx);
    if (reason !== undefined) {
      operation.emit({ type: 'stage', name: stage.name, state: 'skip', reason });
      return;
    }
    operation.emit({ type: 'stage', name: stage.name, state: 'start' });
    const started = performance.now();
    await this.hooks.stageStart.promise(stage, operation);
    done.push(stage);
    let error: PikoError | undefined;
    try {
      await stage.run(ctx);
    } catch (err) {
      const cancelled = operation.cancelReason;
      error = cancelled ? withStage(cancelled, stage.name) : stageError(stage, err);
    }
    ctx.stdout.flush();
    ctx.stderr.flush();
    const durationMs = Math.round(performance.now() - started);
    const ok = error === undefined;
    // An optional stage's failure is a warning, unless the whole operation was cancelled.
    const warning =
      error && stage.optional && !operation.cancelReason
        ? `optional stage ${stage.name} failed (${error.message}); carrying on`
        : undefined;
    if (warning) operation.info('piko', `warning: ${warning}`, 'stderr');
    operation.emit({ type: 'stage', name: stage.name, state: 'end', ok, durationMs, ...(warning ? { warning } : {}) });
    await this.hooks.stageEnd.promise(stage, operation, error ? { ok, durationMs, error } : { ok, durationMs });
    if (error && !warning) throw error;
  }

  private async rollback(operation: Operation, done: StageDefinition[], error: PikoError): Promise<void> {
    const undo = done.filter((stage) => stage.rollback).reverse();
    try {
      await this.hooks.rollback.promise(undo, operation, error);
    } catch (err) {
      operation.info('piko', `warning: ${(err as Error).message}`, 'stderr');
    }
    // Rollback must run even when the operation was cancelled, so it gets a signal of its own.
    const signal = new AbortController().signal;
    for (const stage of undo) {
      operation.info('piko', `rolling back ${stage.name}`);
      const ctx = this.context(operation, stage, signal, ROLLBACK_TIMEOUT_MS);
      try {
        await stage.rollback!(ctx);
      } catch (err) {
        operation.rollbackIncomplete = true;
        operation.info('piko', `warning: rollback of ${stage.name} failed: ${(err as Error).message}`, 'stderr');
      }
      ctx.stdout.flush();
      ctx.stderr.flush();
    }
  }

  private context(operation: Operation, stage: StageDefinition, signal: AbortSignal, timeoutMs?: number): StageContext {
    const source = stage.source ?? (stage.name as LogSource);
    const sink = (message: Unsequenced<LogMessage>): void => void operation.emit(message);
    const stdout = new StreamWriter({ source, stream: 'stdout', sink });
    const stderr = new StreamWriter({ source, stream: 'stderr', sink });
    return {
      operation,
      stage,
      source,
      stdout,
      stderr,
      signal,
      info: (text) => operation.info(source, text),
      warn: (text) => operation.info(source, text, 'stderr'),
      exec: async (file, args, options = {}) => {
        const timeout = options.timeoutMs ?? stage.timeoutMs ?? timeoutMs;
        const result = await run(file, args, {
          cwd: options.cwd ?? operation.environment.path,
          env: { ...operation.vars(), ...options.env },
          stdout,
          stderr,
          signal,
          onProcess: (pid) => operation.state.setOperationChild(operation.id, pid),
          ...(timeout === undefined ? {} : { timeoutMs: timeout }),
        });
        const ok = result.exitCode === 0;
        if (!ok && !options.allowFailure) {
          throw operation.cancelReason ?? commandError(stage.name, displayCommand(file, args), result, timeout);
        }
        return result;
      },
    };
  }

  /** Takes ownership of `message`: it gets its seq in place (no copy on the per-line path). */
  private emit(operation: Operation, message: Unsequenced<OperationMessage>): OperationMessage {
    const sequenced = message as OperationMessage;
    sequenced.seq = operation.takeSeq();
    operation.log.append(sequenced);
    try {
      if (sequenced.type === 'log') this.hooks.log.call(sequenced, operation);
      this.hooks.message.call(sequenced, operation);
    } catch (err) {
      // A tap that throws while output streams fails the operation cleanly instead of
      // tearing through the child process's pipe.
      operation.cancel(toPikoError(err));
    }
    return sequenced;
  }
}

function throwIfCancelled(operation: Operation): void {
  if (operation.cancelReason) throw operation.cancelReason;
}

/** Errors from a stage as the user sees them: PikoErrors as they are, anything else named after the stage and its plugin. */
function stageError(stage: StageDefinition, err: unknown): PikoError {
  if (err instanceof PikoError) return err.stage === undefined ? withStage(err, stage.name) : err;
  const message = err instanceof Error ? err.message : String(err);
  return new PikoError('PIKO_ERR_PLUGIN', `${stage.name} failed: ${message} (in plugin ${stage.plugin})`, {
    stage: stage.name,
    cause: err,
  });
}

function incompleteRollback(err: PikoError, operation: Operation): PikoError {
  return new PikoError(
    err.code,
    `${err.message}; the rollback could not undo everything (see the warnings above): \`piko destroy --force ${operation.environment.name}\` finishes the cleanup`,
    {
      cause: err.cause,
      ...(err.stage === undefined ? {} : { stage: err.stage }),
      ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
    },
  );
}

function withStage(err: PikoError, stage: string): PikoError {
  return new PikoError(err.code, err.message, {
    stage,
    cause: err.cause,
    ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
    ...(err.command === undefined ? {} : { command: err.command }),
  });
}

/** Makes an exception thrown by a tap name the plugin and the hook it came from. */
type AnyTap = { name: string; type: 'sync' | 'async' | 'promise'; fn: Function };

function wrapTap<T extends AnyTap>(tap: T, hookName: string): T {
  const fn = tap.fn as (...args: unknown[]) => unknown;
  const wrap = (err: unknown): unknown =>
    err instanceof PikoError
      ? err
      : new PikoError(
          'PIKO_ERR_PLUGIN',
          `plugin ${tap.name} failed in hook ${hookName}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
  switch (tap.type) {
    case 'sync':
      tap.fn = (...args: unknown[]) => {
        try {
          return fn(...args);
        } catch (err) {
          throw wrap(err);
        }
      };
      break;
    case 'promise':
      tap.fn = async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (err) {
          throw wrap(err);
        }
      };
      break;
    case 'async':
      tap.fn = (...args: unknown[]) => {
        const callback = args.pop() as (err?: unknown, result?: unknown) => void;
        try {
          fn(...args, (err: unknown, result: unknown) => callback(err ? wrap(err) : err, result));
        } catch (err) {
          callback(wrap(err));
        }
      };
      break;
  }
  return tap;
}
