// What a stage gets while it runs: its output writers, its cancel signal, and `exec`, which
// runs a command in the worktree with the environment's variables, its output streamed as it comes.
import type { LogSource } from '../protocol/messages.js';
import { commandError, displayCommand, run } from './exec.js';
import type { Operation } from './operation.js';
import type { StageContext, StageDefinition } from './stage.js';
import { StreamWriter, type LogSink } from './stream-writer.js';

export interface ContextOptions {
  signal: AbortSignal;
  /** A timeout for every command of the stage that sets none of its own. */
  timeoutMs?: number;
  /** Told the process group of each command when it starts, and undefined when it ends. */
  onCommand(pid: number | undefined): void;
}

export function stageContext(operation: Operation, stage: StageDefinition, options: ContextOptions): StageContext {
  const source = stage.source ?? (stage.name as LogSource);
  const sink: LogSink = (message) => void operation.emit(message);
  const stdout = new StreamWriter({ source, stream: 'stdout', sink });
  const stderr = new StreamWriter({ source, stream: 'stderr', sink });
  const { signal } = options;
  return {
    operation,
    stage,
    source,
    stdout,
    stderr,
    signal,
    info: (text) => operation.info(source, text),
    warn: (text) => operation.info(source, text, 'stderr'),
    exec: async (file, args, execOptions = {}) => {
      const timeout = execOptions.timeoutMs ?? stage.timeoutMs ?? options.timeoutMs;
      const result = await run(file, args, {
        cwd: execOptions.cwd ?? operation.environment.path,
        ...(execOptions.bare
          ? { env: { ...withoutPikoVariables(process.env), ...execOptions.env }, extendEnv: false }
          : { env: { ...operation.vars(), ...execOptions.env } }),
        stdout,
        stderr,
        signal,
        onProcess: options.onCommand,
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      });
      if (result.exitCode !== 0 && !execOptions.allowFailure) {
        throw operation.cancelReason ?? commandError(stage.name, displayCommand(file, args), result, timeout);
      }
      return result;
    },
  };
}

/** `env` without its PIKO_* variables (and without unset ones): for a program that outlives the operation (`bare`). */
export function withoutPikoVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('PIKO_')));
}
