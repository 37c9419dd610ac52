// A real engine with real state in a temporary PIKO_HOME, for tests of the engine itself.
import { Engine, type PikoPlugin, type StageDefinition } from '../../core/engine.js';
import type { PikoError } from '../../core/errors.js';
import { newOperationId, type Operation } from '../../core/operation.js';
import type { OperationKind, OperationMessage } from '../../core/protocol.js';
import { State } from '../../core/state.js';
import { makeRepo, tempDir } from './fixtures.js';

export interface EngineHarness {
  engine: Engine;
  state: State;
  home: string;
  messages: OperationMessage[];
  settled: (PikoError | undefined)[];
  operation(kind?: OperationKind): Operation;
}

/** A plugin that adds `stages` to every operation. */
export function stagesPlugin(name: string, ...stages: Omit<StageDefinition, 'plugin'>[]): PikoPlugin {
  return {
    name,
    apply(engine) {
      engine.hooks.registerStages.tap(name, (registry) => {
        for (const stage of stages) registry.add({ ...stage, plugin: name });
      });
    },
  };
}

export function engineHarness(...plugins: PikoPlugin[]): EngineHarness {
  const home = tempDir('piko-home-');
  const root = makeRepo();
  const state = new State(home);
  const project = state.addProject('app', root);
  const engine = new Engine().use(...plugins);
  const messages: OperationMessage[] = [];
  const settled: (PikoError | undefined)[] = [];
  engine.hooks.message.tap('test', (message) => void messages.push(message));
  let n = 0;
  return {
    engine,
    state,
    home,
    messages,
    settled,
    operation(kind = 'create') {
      const name = `env${n++}`;
      const id = newOperationId();
      const environment = state.reserveEnvironment({ projectId: project.id, name, branch: name, path: root, dataDir: root }, id);
      return engine.operation({
        id,
        kind,
        request: { action: 'create', project: 'app', environment: name },
        project,
        environment,
        config: {},
        home,
        state,
        settle: (op, failure) => {
          settled.push(failure);
          if (!failure) op.environment.status = 'ready';
        },
      });
    },
  };
}
