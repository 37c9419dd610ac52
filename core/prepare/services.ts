// What preparing any request needs: the state, the project's engine (its config and plugins),
// the environment a request names, and an operation recorded in state as it runs.
import { configName, type LoadedConfig, type PikoConfig } from '../config/config.js';
import { trustedConfig, type Approve } from '../config/trust.js';
import { loadPlugins } from '../config/plugins.js';
import type { Engine, PikoPlugin } from '../engine/engine.js';
import type { Operation, OperationSpec } from '../engine/operation.js';
import { PikoError } from '../errors.js';
import { StateRecorder, type Outcome } from '../state/recorder.js';
import type { EnvironmentRow, ProjectRow, State } from '../state/state.js';

export interface Services {
  state: State;
  home: string;
  /** An engine for one operation: the caller's plugins, then the project's own. */
  engineFor(projectPlugins: PikoPlugin[]): Engine;
  /** Reads a project's config; by default from its files, each time (the server keeps them). */
  readConfig?(root: string): Promise<LoadedConfig>;
  /**
   * A project's config and plugins as the command already approved and loaded them (a local
   * run), taken as they are instead of being read, checked and loaded a second time.
   */
  approved?: { root: string; loaded: LoadedConfig; plugins: PikoPlugin[] };
  /** What the operation says first (see OperationSpec.notes). */
  notes?: string[];
}

/** A request that passed every check, claimed what it works on, and is ready to run. */
export interface Prepared {
  engine: Engine;
  operation: Operation;
}

/**
 * The project's config and plugins, once what they run is approved (`request.approve` approves
 * it), and an engine for one operation of it.
 */
export async function projectEngine(
  services: Services,
  project: ProjectRow,
  request: { approve?: Approve | undefined; force?: boolean | undefined },
): Promise<{ engine: Engine; config: PikoConfig; file: string }> {
  const ready = services.approved;
  if (ready?.root === project.root) return { engine: services.engineFor(ready.plugins), config: ready.loaded.config, file: configName(ready.loaded) };
  let loaded: LoadedConfig;
  try {
    loaded = await trustedConfig(services.home, project, { read: services.readConfig, approve: request.approve });
  } catch (err) {
    // A forced destroy must work even when the config no longer does (or is not approved): it then runs nothing of the repository's.
    if (request.force) return { engine: services.engineFor([]), config: {}, file: 'config' };
    throw err;
  }
  const file = configName(loaded);
  return { engine: services.engineFor(await loadPlugins(project.root, loaded)), config: loaded.config, file };
}

/** The operation on `engine`, recorded in state as it runs; `outcome` says what its end means for the row. */
export function recordedOperation(services: Services, engine: Engine, spec: Omit<OperationSpec, 'home'> & { id: string }, outcome: Outcome): Prepared {
  engine.use(new StateRecorder(services.state, outcome));
  // Shared services hold a port block of the project's, taken the first time one is needed.
  const sharedBlock = Object.keys(spec.config.shared ?? {}).length > 0 ? services.state.sharedBlock(spec.project.id) : undefined;
  return { engine, operation: engine.operation({ ...spec, home: services.home, notes: services.notes, sharedBlock }) };
}

/** The environment a request names in `project`; an unknown one is an error that lists those there are. */
export function requestEnvironment(state: State, project: ProjectRow, name: string): EnvironmentRow {
  const row = state.environment(project.id, name);
  if (row) return row;
  const known = state.listEnvironments(project.id).map((e) => e.name);
  throw new PikoError(
    'PIKO_ERR_ENV_NOT_FOUND',
    `no environment ${JSON.stringify(name)} in project ${JSON.stringify(project.name)}${known.length ? ` (environments: ${known.join(', ')})` : ''}`,
  );
}
