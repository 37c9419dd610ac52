// A real engine for tests of the engine itself: no database (what is recorded is a plugin's
// business), a real repository as the worktree, and every message and outcome kept.
import { Engine, type PikoPlugin, type StageDefinition } from '../../core/engine/engine.js';
import type { PikoError } from '../../core/errors.js';
import { newOperationId, type Operation } from '../../core/engine/operation.js';
import type { OperationKind, OperationMessage } from '../../core/protocol/messages.js';
import type { ProjectRow } from '../../core/state/rows.js';
import { makeRepo, tempDir } from './fixtures.js';

export interface EngineHarness {
  engine: Engine;
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
  const project: ProjectRow = { id: 1, name: 'app', root, createdAt: new Date().toISOString() };
  const engine = new Engine().use(...plugins);
  const messages: OperationMessage[] = [];
  const settled: (PikoError | undefined)[] = [];
  engine.hooks.message.tap('test', (message) => void messages.push(message));
  engine.hooks.settle.tap('test', (operation, failure) => {
    settled.push(failure);
    if (!failure) operation.environment.status = 'ready';
  });
  let n = 0;
  return {
    engine,
    home,
    messages,
    settled,
    operation(kind = 'create') {
      const name = `env${n++}`;
      const now = new Date().toISOString();
      return engine.operation({
        id: newOperationId(),
        kind,
        request: { action: 'create', project: 'app', environment: name },
        project,
        environment: {
          id: n, name, project: 'app', projectId: 1, mode: 'simple', status: 'creating', branch: name, path: root, dataDir: root,
          ports: [], composeProject: null, composeFile: null, createdAt: now, updatedAt: now,
        },
        config: {},
        home,
      });
    },
  };
}
