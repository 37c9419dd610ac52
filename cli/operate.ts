// Runs a create or destroy and shows it as it happens: through `piko server` when one answers
// (WebSocket or SSE), otherwise in this process with the stdout transport. All three render the
// same way.
import { loadConfig } from '../core/config/config.js';
import { Engine, type PikoPlugin } from '../core/engine/engine.js';
import { killRunningCommands } from '../core/engine/exec.js';
import { prepareOperation, rejection } from '../core/requests/prepare.js';
import { CoalescingWriter } from './terminal/output.js';
import { pikoHome } from '../core/paths.js';
import { LiveTerminal, type Sink } from './terminal/live-terminal.js';
import { loadPlugins } from '../core/config/plugins.js';
import type { OperationRequest } from '../core/protocol/messages.js';
import { colorEnabled, JsonRenderer, TerminalRenderer, type MessageRenderer } from './terminal/render.js';
import { State } from '../core/state/state.js';
import { builtinStagePlugins } from '../stages/index.js';
import { StdoutTransport } from '../transports/stdout.js';
import { transportRegistry, type DeliveryContext, type Transport } from './delivery/registry.js';
import { resolveEnvironment, resolveProject, splitName } from './context.js';
import { ExitError } from './exit.js';
import { attachAfterCreate } from './attach.js';
import { BUILTIN_TRANSPORTS, chooseTransport } from './delivery/transports.js';

export interface OperateOptions {
  json?: boolean;
  quiet?: boolean;
  /** `--transport`; undefined lets the environment, the config and the default decide. */
  transport?: string | undefined;
}

export interface Output {
  home: string;
  renderer: MessageRenderer;
  out: Sink;
  /** A line of piko's own to stderr, after whatever output is pending. */
  say(text: string): void;
  /** Ends the output: the status line goes, everything pending is written. */
  close(): void;
}

export interface OutputOptions {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  /** What the user typed to name the environment, for `piko logs <name>`. */
  name: string;
}

/**
 * The renderer and streams every command that shows an operation uses: on a terminal, coloured
 * lines with a live status line below them; on a pipe, plain lines; with `--json`, NDJSON.
 */
export function output(options: OutputOptions): Output {
  const home = pikoHome();
  // A reader that went away (`| head`) is no reason to stop half-way: the operation finishes.
  process.stdout.on('error', () => undefined);
  const color = colorEnabled(process.stdout);
  // The status line is escape codes too: only on a terminal that takes colour.
  const live = !options.json && !options.quiet && color && process.stdout.isTTY === true ? new LiveTerminal(process.stdout) : undefined;
  const out: Sink = live ?? new CoalescingWriter(process.stdout);
  const say = (text: string): void => {
    const write = (): boolean => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    if (live) live.around(write);
    else {
      out.flush();
      write();
    }
  };
  const renderer = options.json
    ? new JsonRenderer(out.write)
    : new TerminalRenderer({
        write: out.write,
        writeError: say,
        color,
        quiet: options.quiet === true,
        environment: splitName(options.name).environment,
        logsCommand: () => `piko logs ${options.name}`,
      });
  if (live && renderer instanceof TerminalRenderer) live.setStatus(renderer.status);
  return {
    home,
    renderer,
    out,
    say,
    close: () => (live ? live.close() : out.flush()),
  };
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
  const { environment } = splitName(name);
  const shown = output({ name, json: options.json, quiet: options.quiet });
  try {
    let transport: Transport;
    let context: DeliveryContext;
    try {
      const target = await resolveTarget(name);
      const loaded = target.root ? await loadConfig(target.root) : { config: {}, file: undefined };
      const plugins = target.root ? await loadPlugins(target.root, loaded) : [];
      const registry = transportRegistry(BUILTIN_TRANSPORTS, plugins);
      transport = registry.get(chooseTransport(options.transport, loaded.config, environment));
      const request = build(target);
      context = {
        request,
        config: loaded.config,
        home: shown.home,
        render: (message) => shown.renderer.render(message),
        say: shown.say,
        runHere: (extra = []) => locally(request, shown, extra),
      };
    } catch (err) {
      shown.renderer.render(rejection(err));
      throw new ExitError(1);
    }
    // No server answered: do it here. (Once a server has accepted it, never: that would run it twice.)
    const code = (await transport.deliver(context)) ?? (await context.runHere());
    if (code !== 0) throw new ExitError(code);
    const { request } = context;
    if (request.action === 'create' && request.project && !options.json) {
      shown.close();
      await attachAfterCreate(request.project, request.environment, request.attach !== false, shown.say);
    }
  } finally {
    shown.close();
  }
}

/**
 * `piko up|down|restart [name]`: the environment named (or the one whose worktree the user
 * stands in), streamed like a create.
 */
export async function lifecycle(action: 'up' | 'down' | 'restart', name: string | undefined, options: OperateOptions): Promise<void> {
  let full: string;
  const state = new State(pikoHome());
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    full = `${project.name}/${environment.name}`;
  } catch (err) {
    const shown = output({ name: name ?? 'environment', json: options.json, quiet: options.quiet });
    shown.renderer.render(rejection(err));
    shown.close();
    throw new ExitError(1);
  } finally {
    state.close();
  }
  await operate(full, (target) => ({ action, ...target }), options);
}

/**
 * `project/env`, or `env` in the project the user stands in, and the project's root when this
 * machine knows it. With PIKO_SERVER_URL the server may know projects this machine does not:
 * a named one is then left to it.
 */
async function resolveTarget(name: string): Promise<{ project: string; environment: string; root?: string }> {
  const { project, environment } = splitName(name);
  const state = new State(pikoHome());
  try {
    const found = await resolveProject(state, project, process.cwd());
    return { project: found.name, environment, root: found.root };
  } catch (err) {
    if (project !== undefined && process.env.PIKO_SERVER_URL) return { project, environment };
    throw err;
  } finally {
    state.close();
  }
}

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
async function locally(request: OperationRequest, shown: Output, extra: PikoPlugin[]): Promise<number> {
  const { home, renderer, say } = shown;
  const state = new State(home);
  const engineFor = (project: PikoPlugin[]): Engine =>
    new Engine().use(...builtinStagePlugins(), new StdoutTransport(renderer), ...extra, ...project);
  try {
    let prepared;
    try {
      prepared = await prepareOperation({ state, home, engineFor }, request);
    } catch (err) {
      renderer.render(rejection(err));
      return 1;
    }
    const { engine, operation } = prepared;
    let cancelled = false;
    let warnedAt = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (cancelled) {
        killRunningCommands();
        say(`\npiko: left without cleaning up; \`piko destroy --force ${request.environment}\` removes what was made`);
        process.exit(130);
      }
      if (signal === 'SIGINT' && Date.now() - warnedAt > 2000) {
        warnedAt = Date.now();
        say('\npiko: this operation runs in this process: Ctrl-C again within 2 s cancels it (and rolls back)');
        return;
      }
      cancelled = true;
      say('\npiko: cancelling, rolling back what was done (once more leaves at once)');
      operation.cancel(STOP_SIGNALS[signal] ?? signal);
    };
    const signals = Object.keys(STOP_SIGNALS) as NodeJS.Signals[];
    for (const signal of signals) process.on(signal, onSignal);
    const complete = await engine.run(operation);
    for (const signal of signals) process.off(signal, onSignal);
    return complete.success ? 0 : cancelled ? 130 : 1;
  } finally {
    state.close();
  }
}
