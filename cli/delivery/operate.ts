// Runs a create or destroy and shows it as it happens: through `piko server` when one answers
// (WebSocket or SSE), otherwise in this process with the stdout transport. All three render the
// same way.
import { loadConfig } from '../../core/config/config.js';
import { loadPlugins } from '../../core/config/plugins.js';
import { pikoHome } from '../../core/paths.js';
import type { OperationRequest } from '../../core/protocol/messages.js';
import { rejection } from '../../core/requests/prepare.js';
import { State } from '../../core/state/state.js';
import { attachAfterCreate } from '../terminal/tmux-attach.js';
import { resolveEnvironment, resolveProject, splitName } from '../context.js';
import { runLocally } from './locally.js';
import { transportRegistry, type DeliveryContext, type Transport } from './registry.js';
import { BUILTIN_TRANSPORTS, chooseTransport } from './transports.js';
import { ExitError } from '../exit.js';
import { terminalSession } from '../terminal/session.js';

export interface OperateOptions {
  json?: boolean;
  quiet?: boolean;
  /** `--transport`; undefined lets the environment, the config and the default decide. */
  transport?: string | undefined;
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
  const shown = terminalSession({ name, json: options.json, quiet: options.quiet });
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
        runHere: (extra = []) => runLocally(request, shown, extra),
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
    const shown = terminalSession({ name: name ?? 'environment', json: options.json, quiet: options.quiet });
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

