// Recording an operation in the state database, as a plugin on the engine's hooks: the stage it
// is in, the command it runs (so a server starting after a crash can stop it), what a create has
// made so far (so a destroy after a crash knows there are containers), and its outcome.
import type { Engine, PikoPlugin } from '../engine/engine.js';
import type { Operation } from '../engine/operation.js';
import { toPikoError, type PikoError } from '../errors.js';
import type { State } from './state.js';

const PLUGIN_NAME = 'StateRecorder';

/** What the outcome means for the environment's row: it differs by kind of operation. */
export type Outcome = (operation: Operation, failure: PikoError | undefined) => void;

export class StateRecorder implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  constructor(
    private readonly state: State,
    private readonly outcome: Outcome,
  ) {}

  apply(engine: Engine): void {
    const { state } = this;
    engine.hooks.stageStart.tap(PLUGIN_NAME, (stage, operation) => state.setOperationStage(operation.id, stage.name));
    engine.hooks.command.tap(PLUGIN_NAME, (operation, pid) => state.setOperationChild(operation.id, pid));
    engine.hooks.stageEnd.tap(PLUGIN_NAME, (_stage, operation) => {
      if (operation.kind !== 'create') return;
      const { mode, composeProject, composeFile, tmuxSocket, ports, shared } = operation.environment;
      state.updateEnvironment(operation.environment.id, { mode, composeProject, composeFile, tmuxSocket, ports, shared: shared ?? [] });
    });
    engine.hooks.settle.tap(PLUGIN_NAME, (operation, failure) => {
      let final = failure;
      try {
        this.outcome(operation, failure);
      } catch (err) {
        final = toPikoError(err);
        throw final;
      } finally {
        state.finishOperation(operation.id, {
          success: final === undefined,
          ...(final && { error: final.message, stage: final.stage, exitCode: final.exitCode }),
        });
      }
    });
  }
}
