// The stages a team defines in the config's `stages:`: each becomes a script stage of a create,
// through the same registration and ordering as the built-in stages. Output is tagged
// `script:<name>`; position comes from `before`/`after` (a built-in or another custom stage),
// else after `setup`.
import type { Engine, PikoPlugin } from '../core/engine/engine.js';
import { STAGE_ORDER } from '../core/engine/stage-order.js';
import { scriptStage } from './script.js';

const PLUGIN_NAME = 'ConfigStagesPlugin';

export class ConfigStagesPlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind !== 'create') return;
      for (const [i, stage] of (operation.config.stages ?? []).entries()) {
        registry.add(
          scriptStage({
            name: stage.name,
            command: stage.run,
            configKey: `stages[${i}].run`,
            key: `stages[${i}]`,
            file: operation.configFile,
            order: STAGE_ORDER.CUSTOM,
            plugin: PLUGIN_NAME,
            before: stage.before,
            after: stage.after,
            env: stage.env,
            timeoutSeconds: stage.timeout,
            optional: stage.optional,
          }),
        );
      }
    });
  }
}
