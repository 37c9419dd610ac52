// Running an operation in this process: the stdout transport renders every message as it
// happens. Ctrl-C twice within 2 s (or SIGTERM, SIGHUP, `piko cancel`) cancels it, which rolls
// back; a further signal leaves at once.
import type { LoadedConfig } from '../../core/config/config.js';
import { Engine, type PikoPlugin } from '../../core/engine/engine.js';
import { killRunningCommands } from '../../core/engine/exec.js';
import type { OperationRequest } from '../../core/protocol/requests.js';
import { rejection } from '../../core/protocol/rejection.js';
import { prepareOperation } from '../../core/prepare/prepare.js';
import { State } from '../../core/state/state.js';
import { builtinStagePlugins } from '../../stages/index.js';
import { StdoutTransport } from '../../transports/stdout.js';
import { ExitError } from '../exit.js';
import type { Output } from '../terminal/output.js';
import { noteText } from '../terminal/say.js';

/** The signals that stop a local run, and who the cancellation is then said to come from. */
const STOP_SIGNALS: Partial<Record<NodeJS.Signals, string>> = {
  SIGINT: 'Ctrl-C',
  SIGTERM: 'SIGTERM',
  SIGHUP: 'SIGHUP (the terminal closed)',
  SIGUSR2: 'piko cancel',
};

/**
 * Runs the operation in this process, rendering through the stdout transport. Ctrl-C twice
 * within 2 s (or SIGTERM, SIGHUP, `piko cancel`) cancels it, which rolls back; a further
 * signal kills what still runs and leaves at once.
 */
export async function runLocally(
  request: OperationRequest,
  shown: Output,
  extra: PikoPlugin[],
  /** The project's config and plugins as the command already approved and loaded them (once per command). */
  approved?: { root: string; loaded: LoadedConfig; plugins: PikoPlugin[] },
  /** What the operation says first (which project it used). */
  notes: string[] = [],
): Promise<number> {
  const { home, renderer, say } = shown;
  const state = new State(home);
  const engineFor = (project: PikoPlugin[]): Engine =>
    new Engine().use(...builtinStagePlugins(), new StdoutTransport(renderer), ...extra, ...project);
  try {
    let prepared;
    try {
      prepared = await prepareOperation({ state, home, engineFor, notes, ...(approved && { approved }) }, request);
    } catch (err) {
      renderer.render(rejection(err));
      return 1;
    }
    const { engine, operation } = prepared;
    let cancelled = false;
    let warnedAt = 0;
    let leave: (err: ExitError) => void = () => undefined;
    const leaving = new Promise<never>((_, reject) => (leave = reject));
    const onSignal = (signal: NodeJS.Signals): void => {
      if (cancelled) {
        killRunningCommands();
        say(`\n${noteText(`left without cleaning up; \`piko destroy --force ${request.environment}\` removes what was made`)}`);
        leave(new ExitError(130, true));
        return;
      }
      if (signal === 'SIGINT' && Date.now() - warnedAt > 2000) {
        warnedAt = Date.now();
        say(`\n${noteText('this operation runs in this process: Ctrl-C again within 2 s cancels it (and rolls back)')}`);
        return;
      }
      cancelled = true;
      say(`\n${noteText('cancelling, rolling back what was done (once more leaves at once)')}`);
      operation.cancel(STOP_SIGNALS[signal] ?? signal);
    };
    const signals = Object.keys(STOP_SIGNALS) as NodeJS.Signals[];
    for (const signal of signals) process.on(signal, onSignal);
    try {
      const complete = await Promise.race([engine.run(operation), leaving]);
      return complete.success ? 0 : cancelled ? 130 : 1;
    } finally {
      for (const signal of signals) process.off(signal, onSignal);
    }
  } finally {
    state.close();
  }
}
