// The operation engine. Stage plugins tap it to contribute stages; transports and other plugins
// tap it to observe events. It runs an operation's stages in order and, when a stage that is
// not optional fails (or the operation is cancelled), rolls back what was done, in reverse.
// The one thing it records itself is the operation's log: every message is appended to it, in
// seq order, before any tap sees it, so a client that re-attaches finds in the file everything
// the taps have sent (the hub joins the two by seq). What else is recorded (state rows, and
// where) is a plugin's business.
import { performance } from 'node:perf_hooks';
import { AsyncSeriesHook, SyncHook, type Hook } from 'tapable';
import { PikoError, toPikoError } from '../errors.js';
import { expandBatch } from '../protocol/batch.js';
import type { CompleteMessage, OperationMessage, OutputMessage, Unsequenced } from '../protocol/messages.js';
import { environmentInfo } from '../state/rows.js';
import { stageContext } from './stage-context.js';
import { Operation, type OperationSpec } from './operation.js';
import { incompleteRollback, stageError, withStage, wrapTap } from './plugin-errors.js';
import { orderStages } from './stage-order.js';
import type { StageContext, StageDefinition, StageRegistry, StageResult } from './stage.js';

export type { ExecOptions, StageContext, StageDefinition, StageRegistry, StageResult } from './stage.js';

/** A plugin: a name, and `apply` taps the engine's hooks. */
export interface PikoPlugin {
  name: string;
  apply(engine: Engine): void;
}

/** How long a rollback command may run before it is killed. */
const ROLLBACK_TIMEOUT_MS = 120_000;

export class Engine {
  readonly hooks = Object.freeze({
    // -- stages -----------------------------------------------------------------------------------
    /** Once per operation: stage plugins add their stages for this kind of operation. */
    registerStages: new SyncHook<[StageRegistry, Operation]>(['registry', 'operation']),
    /** A stage is about to run (its `stage` start message is out). Throwing fails the operation. */
    stageStart: new AsyncSeriesHook<[StageDefinition, Operation]>(['stage', 'operation']),
    /** A stage ran, well or not (its end message is out): the environment is as it left it. Throwing fails the operation. */
    stageEnd: new AsyncSeriesHook<[StageDefinition, Operation, StageResult]>(['stage', 'operation', 'result']),
    /** A stage's command started (its process group id) or ended (undefined). */
    command: new SyncHook<[Operation, number | undefined]>(['operation', 'pid']),

    // -- outcome ----------------------------------------------------------------------------------
    /** The stages and any rollback are done: the outcome is decided. Throwing fails the operation. */
    settle: new AsyncSeriesHook<[Operation, PikoError | undefined]>(['operation', 'failure']),

    // -- output -----------------------------------------------------------------------------------
    /**
     * Every protocol message, with its seq, the lines of one burst of a command's output as one
     * `logs` batch: piko's transports and the server's own output tap this, so they work per
     * chunk, not per line.
     */
    output: new SyncHook<[OutputMessage, Operation]>(['message', 'operation']),
    /** Every protocol message (accepted, stage, log, complete), with its seq, one `log` per line. */
    message: new SyncHook<[OperationMessage, Operation]>(['message', 'operation']),
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

  /** The stages `operation` would run, in order (throws when they cannot be ordered). */
  stagesFor(operation: Operation): StageDefinition[] {
    const stages: StageDefinition[] = [];
    this.hooks.registerStages.call({ add: (stage) => void stages.push(stage) }, operation);
    return orderStages(stages);
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
    for (const note of operation.notes) operation.info('piko', note);

    const done: StageDefinition[] = [];
    let failure: PikoError | undefined;
    try {
      for (const stage of this.stagesFor(operation)) {
        throwIfCancelled(operation);
        await this.runStage(operation, stage, done);
      }
      throwIfCancelled(operation);
    } catch (err) {
      failure = err instanceof PikoError ? err : (operation.cancelReason ?? toPikoError(err));
    }
    if (failure) {
      await this.rollback(operation, done);
      if (operation.rollbackIncomplete) failure = incompleteRollback(failure, operation.environment.name);
    }
    try {
      await this.hooks.settle.promise(operation, failure);
    } catch (err) {
      failure = toPikoError(err);
    }
    const sent = operation.emit(completeMessage(operation, failure, Math.round(performance.now() - started))) as CompleteMessage;
    operation.close();
    return sent;
  }

  /** Runs one stage (or skips it); throws when it failed the operation. */
  private async runStage(operation: Operation, stage: StageDefinition, done: StageDefinition[]): Promise<void> {
    const ctx = this.context(operation, stage, operation.signal);
    const reason = stage.skip?.(ctx);
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

  /** Undoes the stages that ran, last first; a rollback that fails is a warning, and marks the operation. */
  private async rollback(operation: Operation, done: StageDefinition[]): Promise<void> {
    // Rollback must run even when the operation was cancelled, so it gets a signal of its own.
    const signal = new AbortController().signal;
    for (const stage of done.filter((s) => s.rollback).reverse()) {
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
    return stageContext(operation, stage, {
      signal,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      onCommand: (pid) => this.hooks.command.call(operation, pid),
    });
  }

  /**
   * Takes ownership of `message`: it gets its seq in place (no copy on the per-line path). A
   * batch's lines are made one by one only when something taps `message`.
   */
  private emit(operation: Operation, message: Unsequenced<OutputMessage>): OutputMessage {
    const sequenced = message as OutputMessage;
    sequenced.seq = operation.takeSeq(sequenced.type === 'logs' ? sequenced.count : 1);
    operation.log.append(sequenced);
    this.deliver(sequenced, operation);
    return sequenced;
  }

  /** Messages emitted while the taps are being called, waiting for their turn. */
  private waiting: [OutputMessage, Operation][] | undefined;

  /**
   * Hands `message` to the `output` taps, then each of its lines to the `message` taps. A
   * message a tap emits meanwhile waits until the taps are done with the one before, so every
   * tap sees the messages in seq order; a tap that throws fails the operation, and the taps
   * still get every line after it.
   */
  private deliver(message: OutputMessage, operation: Operation): void {
    if (this.waiting) {
      this.waiting.push([message, operation]);
      return;
    }
    const waiting: [OutputMessage, Operation][] = (this.waiting = [[message, operation]]);
    try {
      for (let i = 0; i < waiting.length; i++) {
        const [next, of] = waiting[i]!;
        tapping(of, () => this.hooks.output.call(next, of));
        if (this.hooks.message.taps.length === 0) continue;
        for (const line of next.type === 'logs' ? expandBatch(next) : [next]) tapping(of, () => this.hooks.message.call(line, of));
      }
    } finally {
      this.waiting = undefined;
    }
  }
}

/**
 * Calls a hook while output streams: a tap that throws fails the operation cleanly instead of
 * tearing through the child process's pipe.
 */
function tapping(operation: Operation, call: () => void): void {
  try {
    call();
  } catch (err) {
    operation.cancel(toPikoError(err));
  }
}

function throwIfCancelled(operation: Operation): void {
  if (operation.cancelReason) throw operation.cancelReason;
}

function completeMessage(operation: Operation, failure: PikoError | undefined, durationMs: number): Unsequenced<CompleteMessage> {
  if (!failure) {
    return { type: 'complete', success: true, environment: environmentInfo(operation.environment), operation: operation.id, durationMs };
  }
  return {
    type: 'complete',
    success: false,
    error: failure.message,
    code: failure.code,
    hint: failure.hint,
    ...(failure.stage === undefined ? {} : { stage: failure.stage }),
    ...(failure.exitCode === undefined ? {} : { exitCode: failure.exitCode }),
    operation: operation.id,
    durationMs,
  };
}
