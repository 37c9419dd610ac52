// The full way to run an operation: the project found in this machine's state, its config and
// plugins read here, the transport chosen from them (a plugin's own included), and the
// operation carried by that transport's delivery, or run here when no server answers.
import { configName } from '../../core/config/config.js';
import { loadPlugins } from '../../core/config/plugins.js';
import { trustedConfig } from '../../core/config/trust.js';
import { splitName } from '../../core/environment/names.js';
import { pikoHome } from '../../core/paths.js';
import type { OperationRequest } from '../../core/protocol/requests.js';
import { State } from '../../core/state/state.js';
import { meantProject } from '../../core/state/resolve.js';
import type { Output } from '../terminal/output.js';
import { checkTransports, chooseTransport } from '../../core/config/transport.js';
import { runLocally } from './locally.js';
import { BUILTIN_DELIVERIES } from './builtin.js';
import { deliveryRegistry, type DeliveryContext } from './registry.js';

export type RequestBuilder = (target: { project: string | undefined; environment: string }) => OperationRequest;

/**
 * `project/env`, or `env` in the project the user stands in, and the project's root when this
 * machine knows it. With PIKO_SERVER_URL the server may know projects this machine does not:
 * a named one is then left to it.
 */
async function resolveTarget(name: string): Promise<{ project: string; environment: string; root?: string; note?: string }> {
  const { project, environment } = splitName(name);
  const state = new State(pikoHome());
  try {
    const { project: found, note } = await meantProject(state, project, process.cwd());
    return { project: found.name, environment, root: found.root, ...(note && { note }) };
  } catch (err) {
    if (project !== undefined && process.env.PIKO_SERVER_URL) return { project, environment };
    throw err;
  } finally {
    state.close();
  }
}

/** Runs the operation for `name` the full way; resolves with its exit code and the request that ran. */
export async function deliverConfigured(
  name: string,
  build: RequestBuilder,
  transportFlag: string | undefined,
  shown: Output,
): Promise<{ code: number; request: OperationRequest }> {
  const target = await resolveTarget(name);
  const { note, ...where } = target;
  const request = build(where);
  // Nothing of the project's (a code config, a plugin) runs here before it is approved.
  const loaded = target.root ? await trustedConfig(shown.home, { name: target.project, root: target.root }, { approve: request.approve }) : { config: {}, file: undefined };
  const plugins = target.root ? await loadPlugins(target.root, loaded) : [];
  const registry = deliveryRegistry(BUILTIN_DELIVERIES, plugins);
  checkTransports(registry.names(), transportFlag, loaded.config, configName(loaded));
  const delivery = registry.get(chooseTransport(transportFlag, loaded.config, target.environment));
  const context: DeliveryContext = {
    request,
    config: loaded.config,
    home: shown.home,
    render: (message) => shown.renderer.render(message),
    say: shown.say,
    // The config is read, approved and its plugins loaded once per command: the local run takes these.
    runHere: (extra = []) => runLocally(request, shown, extra, target.root ? { root: target.root, loaded, plugins } : undefined, note ? [note] : []),
  };
  // No server answered: do it here. (Once a server has accepted it, never: that would run it twice.)
  const code = (await delivery.deliver(context)) ?? (await context.runHere());
  return { code, request };
}
