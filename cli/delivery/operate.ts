// Runs a create, destroy, up, down or restart and shows it as it happens: through `piko server`
// when one answers (WebSocket or SSE), otherwise in this process with the stdout transport. All
// three render the same way.
//
// With a server of this machine running, the command goes the short way: neither state nor
// config is read here. The server finds the project from the working directory, and when the
// project's config wants another transport it says so, running nothing; anything else (a
// transport a plugin offers, `stdout`, a server named elsewhere) goes the full way
// (./configured.ts), which is loaded only then.
import { splitName } from '../../core/environment/names.js';
import { rejection } from '../../core/protocol/rejection.js';
import { ExitError } from '../exit.js';
import { findServer, type NetworkTransport } from '../remote/discovery.js';
import { openOutput, type Output } from '../terminal/output.js';
import { attachAfterCreate } from '../terminal/tmux-attach.js';
import type { RequestBuilder } from './configured.js';
import { viaServer } from './via-server.js';

export interface OperateOptions {
  json?: boolean;
  quiet?: boolean;
  /** `--yes`: approve what the project's config runs, whatever it is now. */
  yes?: boolean;
  /** `--transport`; undefined lets the environment, the config and the default decide. */
  transport?: string | undefined;
}

/** The short way; undefined when it cannot be taken (the full way then runs the operation). */
async function shortWay(name: string, build: RequestBuilder, options: OperateOptions, shown: Output): Promise<{ code: number; project: string | undefined } | undefined> {
  const forced = options.transport ?? process.env.PIKO_TRANSPORT;
  if ((forced !== undefined && forced !== 'websocket' && forced !== 'sse') || process.env.PIKO_SERVER_URL) return undefined;
  const address = findServer(shown.home);
  if (!address) return undefined;
  const target = splitName(name);
  let project = target.project;
  let transport = (forced ?? 'websocket') as NetworkTransport;
  // At most twice: the second time over the transport the project's config asked for.
  for (let attempt = 0; attempt < 2; attempt++) {
    // A transport the user forced is not the config's to change, so it is not said.
    const request = { ...build(target), cwd: process.cwd(), ...(forced === undefined ? { transport } : {}) };
    const result = await viaServer(address, transport, {
      request,
      config: {},
      home: shown.home,
      say: shown.say,
      render: (message) => {
        if (message.type === 'accepted') project = message.project;
        shown.renderer.render(message);
      },
    });
    if (result === undefined) return undefined;
    if (typeof result === 'number') return { code: result, project };
    if (result.redirect !== 'websocket' && result.redirect !== 'sse') return undefined;
    transport = result.redirect;
  }
  return undefined;
}

/**
 * Runs the operation `build` makes for `name` (`env` or `project/env`). Every error, including
 * an unknown project, is shown as the operation's failed `complete` (JSON with `--json`).
 */
export async function operate(name: string, given: RequestBuilder, options: OperateOptions, approve?: string): Promise<void> {
  const build: RequestBuilder = (target) => {
    const request = given(target);
    return options.yes ? { ...request, approve: true } : approve ? { ...request, approve } : request;
  };
  const shown = openOutput({ name, json: options.json, quiet: options.quiet });
  try {
    let outcome = await shortWay(name, build, options, shown);
    if (!outcome) {
      try {
        const { deliverConfigured } = await import('./configured.js');
        const { code, request } = await deliverConfigured(name, build, options.transport, shown);
        outcome = { code, project: request.project };
      } catch (err) {
        if (err instanceof ExitError) throw err;
        shown.renderer.render(rejection(err));
        outcome = { code: 1, project: undefined };
      }
    }
    if (outcome.code !== 0) {
      // What the config runs changed: the person at the terminal saw the difference and may approve exactly that.
      const refused = shown.complete && !shown.complete.success ? shown.complete : undefined;
      if (refused?.code === 'PIKO_ERR_UNTRUSTED' && refused.approval && !approve && !options.json) {
        const { askToApprove } = await import('../terminal/ask.js');
        if (await askToApprove()) {
          shown.close();
          return await operate(name, given, options, refused.approval);
        }
      }
      throw new ExitError(outcome.code);
    }
    const request = build(splitName(name));
    const made = shown.complete?.success ? shown.complete.environment : undefined;
    const session = made?.tmux;
    // Told not to attach (--no-attach): the person knows, and the final line names the environment.
    if (request.action === 'create' && request.attach !== false && session && outcome.project && !options.json) {
      shown.close();
      await attachAfterCreate(session, made?.tmuxSocket, outcome.project, request.environment, shown.say);
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
  const [{ State }, { resolveEnvironment }, { pikoHome }] = await Promise.all([
    import('../../core/state/state.js'),
    import('../../core/state/resolve.js'),
    import('../../core/paths.js'),
  ]);
  const state = new State(pikoHome());
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    full = `${project.name}/${environment.name}`;
  } catch (err) {
    const shown = openOutput({ name: name ?? 'environment', json: options.json, quiet: options.quiet });
    shown.renderer.render(rejection(err));
    shown.close();
    throw new ExitError(1);
  } finally {
    state.close();
  }
  await operate(full, (target) => ({ action, ...target }), options);
}
