// Runs a create or destroy and shows it as it happens: through `piko server` when one answers
// (WebSocket), otherwise in this process with the stdout transport. Both render the same way.
import { Engine } from '../core/engine.js';
import { PikoError } from '../core/errors.js';
import { prepareOperation, rejection } from '../core/operations.js';
import { CoalescingWriter } from '../core/output.js';
import { operationLogPath, pikoHome } from '../core/paths.js';
import type { OperationRequest } from '../core/protocol.js';
import { colorEnabled, JsonRenderer, TerminalRenderer, type MessageRenderer } from '../core/render.js';
import { killRunningCommands } from '../core/exec.js';
import { State } from '../core/state.js';
import { builtinStagePlugins } from '../stages/index.js';
import { StdoutTransport } from '../transports/stdout.js';
import { findServer, streamOperation, type ServerAddress } from './client.js';
import { ExitError, resolveProject, splitName } from './context.js';

export type TransportChoice = 'websocket' | 'stdout';

export interface OperateOptions {
  json?: boolean;
  transport: TransportChoice;
}

interface Output {
  home: string;
  renderer: MessageRenderer;
  out: CoalescingWriter;
  /** A line of piko's own to stderr, after whatever output is pending. */
  say(text: string): void;
}

/**
 * Runs the operation `build` makes for `name` (`env` or `project/env`). Every error, including
 * an unknown project, is shown as the operation's failed `complete` (JSON with `--json`).
 */
export async function operate(
  name: string,
  build: (target: { project: string; environment: string }) => OperationRequest,
  options: OperateOptions,
): Promise<void> {
  const home = pikoHome();
  // A reader that went away (`| head`) is no reason to stop half-way: the operation finishes.
  process.stdout.on('error', () => undefined);
  const out = new CoalescingWriter(process.stdout);
  const say = (text: string): void => {
    out.flush();
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  const renderer = options.json
    ? new JsonRenderer(out.write)
    : new TerminalRenderer({
        write: out.write,
        writeError: say,
        color: colorEnabled(process.stdout),
        environment: splitName(name).environment,
        logHint: (operation) => operationLogPath(home, operation),
      });
  const output = { home, renderer, out, say };
  try {
    let request: OperationRequest;
    try {
      request = build(await target(name));
    } catch (err) {
      renderer.render(rejection(err));
      throw new ExitError(1);
    }
    const address = options.transport === 'stdout' ? undefined : findServer(home);
    const code = address ? await viaServer(address, request, output) : undefined;
    // No server answered: do it here. (Once a server has accepted it, never: that would run it twice.)
    if (code === undefined) await locally(request, output);
    else if (code !== 0) throw new ExitError(code);
  } finally {
    out.flush();
  }
}

/**
 * `project/env`, or `env` in the project the user stands in. With PIKO_SERVER_URL the server
 * may know projects this machine's state does not: an unknown one is then left to it.
 */
async function target(name: string): Promise<{ project: string; environment: string }> {
  const { project, environment } = splitName(name);
  const state = new State(pikoHome());
  try {
    return { project: (await resolveProject(state, project, process.cwd())).name, environment };
  } catch (err) {
    if (project !== undefined && process.env.PIKO_SERVER_URL) return { project, environment };
    throw err;
  } finally {
    state.close();
  }
}

/** Streams the operation from the server; undefined when no server took the connection. */
async function viaServer(address: ServerAddress, request: OperationRequest, output: Output): Promise<number | undefined> {
  const detach = new AbortController();
  const onInterrupt = (): void => detach.abort();
  process.once('SIGINT', onInterrupt);
  const result = await streamOperation(address, request, (message) => output.renderer.render(message), {
    signal: detach.signal,
  }).finally(() => process.off('SIGINT', onInterrupt));
  const log = (operation: string | undefined) =>
    operation ? `its log: ${operationLogPath(output.home, operation)}` : 'nothing was started';
  switch (result.kind) {
    case 'unreachable':
      return undefined;
    case 'complete':
      return result.complete.success ? 0 : 1;
    case 'refused': {
      const error = new PikoError('PIKO_ERR_SERVER_UNREACHABLE', result.reason);
      output.say(`piko: ${error.message}\n  ${error.hint}`);
      return 1;
    }
    case 'lost': {
      const error = new PikoError(
        'PIKO_ERR_SERVER_LOST',
        `lost the connection to the piko server at ${address.url} during ${result.operation ?? 'the request'}: ${result.reason}`,
      );
      output.say(`piko: ${error.message}\n  ${error.hint}\n  ${log(result.operation)}`);
      return 1;
    }
    case 'detached':
      output.say(
        `\npiko: detached; ${result.operation ?? 'the operation'} goes on in the server (${address.url}).\n  ${log(result.operation)}`,
      );
      return 130;
  }
}

/** Runs the operation in this process, rendering through the stdout transport. */
async function locally(request: OperationRequest, output: Output): Promise<void> {
  const { home, renderer, say } = output;
  const state = new State(home);
  const engine = new Engine().use(...builtinStagePlugins(), new StdoutTransport(renderer));
  try {
    let operation;
    try {
      operation = await prepareOperation({ engine, state, home }, request);
    } catch (err) {
      renderer.render(rejection(err));
      throw new ExitError(1);
    }
    // Ctrl-C (or the terminal closing, or a SIGTERM) stops the running stage and rolls back;
    // a second one leaves at once, killing what still runs.
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interrupted) {
        killRunningCommands();
        say(`\npiko: left without cleaning up; \`piko destroy --force ${request.environment}\` removes what was made`);
        process.exit(130);
      }
      interrupted = true;
      say(`\npiko: cancelling, rolling back what was done (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to leave at once)`);
      operation.cancel(signal === 'SIGINT' ? 'Ctrl-C' : signal);
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.on(signal, onSignal);
    const complete = await engine.run(operation);
    for (const signal of signals) process.off(signal, onSignal);
    if (!complete.success) throw new ExitError(interrupted ? 130 : 1);
  } finally {
    state.close();
  }
}
