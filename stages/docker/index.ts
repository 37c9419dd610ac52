// The docker stage plugin. A create gets two stages: `ports` right after the worktree exists
// (plans the compose project, so `prepare` already sees PIKO_<SERVICE>_PORT) and `docker`
// (plans again, since `prepare` may have written the `.env` the files read, then
// `compose up -d`). Rollback and destroy take the project down and remove what compose left
// behind; `up`, `down` and `restart` are one compose command each. Without a compose file both
// stages are skipped: the environment is `simple`.
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../../core/engine/engine.js';
import { STAGE_ORDER } from '../../core/engine/stage-order.js';
import { PikoError } from '../../core/errors.js';
import { PIKO_COMPOSE_FILE } from '../../core/paths.js';
import type { DestroyRequest } from '../../core/protocol/requests.js';
import { sharedComposeProject } from '../shared/model.js';
import type { ComposeTool } from './compose-cli.js';
import { joinNetworks, makeNetworks, plainNetworks } from './networks.js';
import { readComposeFile } from './load.js';
import { hasCompose, plan, type Plan } from './plan.js';
import { compose, requireEngine, takeDown } from './run.js';

const PLUGIN_NAME = 'DockerStagePlugin';
const PLAN_KEY = `${PLUGIN_NAME}:plan`;

const noCompose = (operation: Parameters<typeof hasCompose>[0]): string | undefined =>
  hasCompose(operation) ? undefined : 'no compose file: simple mode';

function portsStage(): StageDefinition {
  return {
    name: 'ports',
    source: 'docker',
    order: STAGE_ORDER.PORTS,
    plugin: PLUGIN_NAME,
    skip: (ctx) => noCompose(ctx.operation),
    async run(ctx) {
      try {
        const early = await plan(ctx.operation, undefined);
        if (early) ctx.operation.data.set(PLAN_KEY, early);
      } catch (err) {
        // Files only `prepare` can complete (a .env, a generated compose file) are planned by the
        // docker stage; files that are simply wrong fail there, with the same error.
        if (!(err instanceof PikoError) || (err.code !== 'PIKO_ERR_COMPOSE_INVALID' && err.code !== 'PIKO_ERR_CONFIG_INVALID')) throw err;
        ctx.info(`not planned before prepare (${err.message}): planned again after it`);
      }
    },
  };
}

/**
 * `up -d`; with shared services, the environment's networks are made first (by piko where they
 * are plain, else by `up --no-start`) and the shared containers join them before anything
 * starts, so a service finds `db` from its first breath.
 */
async function composeUp(ctx: StageContext, tool: ComposeTool): Promise<void> {
  const { environment, project } = ctx.operation;
  const shared = environment.shared ?? [];
  if (shared.length > 0) {
    const networks = plainNetworks(readComposeFile(environment.composeFile!, PIKO_COMPOSE_FILE), environment.composeProject!);
    if (networks) await makeNetworks(environment.composeProject!, networks);
    else await compose(ctx, tool, ['up', '--no-start']);
    await joinNetworks(sharedComposeProject(project.name), shared.map((use) => use.service), environment.composeProject!);
  }
  await compose(ctx, tool, ['up', '-d']);
}

function createStage(): StageDefinition {
  let started = false;
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    skip: (ctx) => noCompose(ctx.operation),
    async run(ctx) {
      await plan(ctx.operation, ctx.operation.data.get(PLAN_KEY) as Plan | undefined);
      const tool = await requireEngine(ctx);
      started = true;
      await composeUp(ctx, tool);
    },
    async rollback(ctx) {
      if (started) await takeDown(ctx, { volumes: true });
    },
  };
}

function destroyStage(): StageDefinition {
  return {
    name: 'docker',
    order: STAGE_ORDER.DESTROY_DOCKER,
    plugin: PLUGIN_NAME,
    skip: (ctx) => (ctx.operation.environment.mode === 'simple' ? 'simple environment: no containers' : undefined),
    async run(ctx) {
      const request = ctx.operation.request as DestroyRequest;
      try {
        await takeDown(ctx, { volumes: !request.keepVolumes });
      } catch (err) {
        // A forced destroy goes on without the containers: they may need `docker rm` by hand.
        if (!request.force) throw err;
        ctx.warn(`${(err as Error).message}; carrying on because of --force`);
        return;
      }
      ctx.operation.environment.status = 'stopped';
    },
  };
}

/** `piko up`, `down` and `restart`: one compose command each, and the status it leaves. */
const LIFECYCLE = {
  up: { run: composeUp, status: 'running' },
  down: { run: (ctx: StageContext) => takeDown(ctx, { volumes: false, remove: false }), status: 'stopped' },
  restart: { run: (ctx: StageContext, tool: ComposeTool) => compose(ctx, tool, ['restart']), status: 'running' },
} as const;

function lifecycleStage(kind: keyof typeof LIFECYCLE): StageDefinition {
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    async run(ctx) {
      await LIFECYCLE[kind].run(ctx, await requireEngine(ctx));
      ctx.operation.environment.status = LIFECYCLE[kind].status;
    },
  };
}

export class DockerStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') {
        registry.add(portsStage());
        registry.add(createStage());
      } else if (operation.kind === 'destroy') registry.add(destroyStage());
      else registry.add(lifecycleStage(operation.kind));
    });
  }
}
