// Script stages: a command from the project's config, run with `sh -c` in the worktree with
// every PIKO_* variable. The built-in `prepare`, `setup` and `destroy` scripts and the stages a
// team defines in config are all made by `scriptStage`, so they behave the same.
import { existsSync } from 'node:fs';
import type { Engine, PikoPlugin, StageDefinition } from '../core/engine/engine.js';
import type { PikoConfig } from '../core/config/config.js';
import type { OperationKind } from '../core/protocol/messages.js';
import { STAGE_ORDER } from '../core/engine/stage-order.js';

export interface ScriptStageOptions {
  /** Stage name without the `script:` prefix. */
  name: string;
  /** The command, or undefined when the project does not define it (the stage is skipped). */
  command: string | undefined;
  /** Where the command comes from, for the skip note (`scripts.setup`). */
  configKey: string;
  /** Where the config defines the stage itself (`stages[0]`), for ordering errors. */
  key?: string | undefined;
  /** The config file that defines the stage, for those errors. */
  file?: string | undefined;
  order: number;
  plugin: string;
  before?: string | undefined;
  after?: string | undefined;
  env?: Record<string, string> | undefined;
  timeoutSeconds?: number | undefined;
  optional?: boolean | undefined;
}

export function scriptStage(options: ScriptStageOptions): StageDefinition {
  const { command } = options;
  return {
    name: `script:${options.name}`,
    order: options.order,
    before: options.before,
    after: options.after,
    key: options.key,
    file: options.file,
    optional: options.optional ?? false,
    timeoutMs: options.timeoutSeconds === undefined ? undefined : options.timeoutSeconds * 1000,
    plugin: options.plugin,
    skip(ctx) {
      if (command === undefined || command.trim() === '') return `no ${options.configKey} in the project's config`;
      if (!existsSync(ctx.operation.environment.path)) return `the worktree ${ctx.operation.environment.path} is gone`;
      return undefined;
    },
    async run(ctx) {
      await ctx.exec('sh', ['-c', command!], { env: options.env ?? {} });
    },
  };
}

type BuiltinScript = keyof NonNullable<PikoConfig['scripts']>;

/** Registers one of the config's `scripts:` as a stage of one kind of operation. */
export class ScriptStagePlugin implements PikoPlugin {
  readonly name: string;

  constructor(
    private readonly script: BuiltinScript,
    private readonly kind: OperationKind,
    private readonly order: number,
  ) {
    this.name = `ScriptStagePlugin(${script})`;
  }

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(this.name, (registry, operation) => {
      if (operation.kind !== this.kind) return;
      registry.add(
        scriptStage({
          name: this.script,
          command: operation.config.scripts?.[this.script],
          configKey: `scripts.${this.script}`,
          order: this.order,
          plugin: this.name,
        }),
      );
    });
  }
}

export const prepareScript = (): ScriptStagePlugin => new ScriptStagePlugin('prepare', 'create', STAGE_ORDER.PREPARE);
export const setupScript = (): ScriptStagePlugin => new ScriptStagePlugin('setup', 'create', STAGE_ORDER.SETUP);
export const destroyScript = (): ScriptStagePlugin =>
  new ScriptStagePlugin('destroy', 'destroy', STAGE_ORDER.DESTROY_SCRIPT);
