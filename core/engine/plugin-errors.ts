// Errors from plugins and stages as the user sees them: what failed, in which stage, and which
// plugin it came from. Tapable does not name the tap that threw, so every tap is wrapped.
import { PikoError } from '../errors.js';
import type { StageDefinition } from './stage.js';

/** A PikoError as it is, with `stage` set. */
export function withStage(err: PikoError, stage: string): PikoError {
  return new PikoError(err.code, err.message, {
    stage,
    cause: err.cause,
    ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
    ...(err.command === undefined ? {} : { command: err.command }),
  });
}

/** Errors from a stage: PikoErrors as they are, anything else named after the stage and its plugin. */
export function stageError(stage: StageDefinition, err: unknown): PikoError {
  if (err instanceof PikoError) return err.stage === undefined ? withStage(err, stage.name) : err;
  const message = err instanceof Error ? err.message : String(err);
  return new PikoError('PIKO_ERR_PLUGIN', `${stage.name} failed: ${message} (in plugin ${stage.plugin})`, {
    stage: stage.name,
    cause: err,
  });
}

/** The failure, saying that the rollback left something behind and how to finish it. */
export function incompleteRollback(err: PikoError, environment: string): PikoError {
  return new PikoError(
    err.code,
    `${err.message}; the rollback could not undo everything (see the warnings above): \`piko destroy --force ${environment}\` finishes the cleanup`,
    {
      cause: err.cause,
      ...(err.stage === undefined ? {} : { stage: err.stage }),
      ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
    },
  );
}

type AnyTap = { name: string; type: 'sync' | 'async' | 'promise'; fn: Function };

/** Makes an exception thrown by a tap name the plugin and the hook it came from. */
export function wrapTap<T extends AnyTap>(tap: T, hookName: string): T {
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
