// The shared services plugin. A create of a project whose config shares services gets a `shared`
// stage (the project's shared compose project planned, started once for everyone under a lock,
// waited for until healthy) and a `database` stage (the environment's own database: a copy of the
// template, made by its seed the first time it is missing, of `--from`'s, or an empty one), both
// before `prepare`, so `setup` migrates the environment's own database. `up` and `restart` start
// the shared services first; a destroy drops the environment's database once its containers are
// gone (`--keep-volumes` keeps it).
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../../core/engine/engine.js';
import type { Operation } from '../../core/engine/operation.js';
import { STAGE_ORDER } from '../../core/engine/stage-order.js';
import { PikoError } from '../../core/errors.js';
import { composeProjectName } from '../../core/paths.js';
import type { CreateRequest, DestroyRequest } from '../../core/protocol/requests.js';
import { withLock } from '../../core/system/lock.js';
import { hasCompose } from '../docker/plan.js';
import { requireEngine } from '../docker/run.js';
import { copy, create, drop, exists, type DatabaseServer, type Shell } from './databases.js';
import { databaseName, hasShared, sharedComposeProject } from './model.js';
import { databaseServer, planShared, sharedUses, startShared, type SharedPlan } from './project.js';
import { ensureTemplates } from './templates.js';

const PLUGIN_NAME = 'SharedServicesPlugin';
const PLAN_KEY = `${PLUGIN_NAME}:plan`;

/** A stage's way of running commands, for the code the `piko shared` commands use too. */
export function stageShell(ctx: StageContext): Shell {
  return {
    run: async (file, args, options = {}) => void (await ctx.exec(file, args, options)),
    info: (text) => ctx.info(text),
    warn: (text) => ctx.warn(text),
  };
}

const noShared = (operation: Operation): string | undefined => (hasCompose(operation) ? undefined : 'no compose file: simple mode');
const noDatabase = (operation: Operation): string | undefined =>
  operation.environment.shared?.some((use) => use.database) ? undefined : 'no database of its own on a shared server';

/** Runs `work` under the project's shared lock, so that two operations at once start (or seed) once. */
function locked(ctx: StageContext, plan: SharedPlan, work: () => Promise<void>): Promise<void> {
  const { operation } = ctx;
  return withLock(operation.home, `shared-${operation.project.name}`, work, {
    signal: ctx.signal,
    onWait: () => ctx.info(`waiting for another piko operation on ${plan.composeProject}`),
  });
}

/** Plans the shared project and has it running and healthy. */
export async function ensureShared(ctx: StageContext): Promise<SharedPlan> {
  const { operation } = ctx;
  const plan = await planShared({ project: operation.project, config: operation.config, block: operation.sharedBlock! });
  const tool = await requireEngine(ctx);
  await locked(ctx, plan, () => startShared(plan, tool, stageShell(ctx), ctx.signal));
  operation.data.set(PLAN_KEY, plan);
  return plan;
}

/**
 * Copies `source` (a template, or `--from`'s database) to `name`. A template that is not there
 * yet is made by its seed, under the lock, and the copy tried again: asked only when the copy
 * fails, not before every create.
 */
async function copyFrom(ctx: StageContext, plan: SharedPlan, server: DatabaseServer, source: string, name: string, template: boolean): Promise<void> {
  const seed = () => locked(ctx, plan, () => ensureTemplates(plan, stageShell(ctx), ctx.operation.configFile ?? 'config'));
  // MySQL copies through a dump, whose failure does not say why in its message: asked first.
  if (template && server.kind === 'mysql' && !(await exists(server, source))) await seed();
  try {
    await copy(server, stageShell(ctx), source, name);
  } catch (err) {
    if (!template || server.kind !== 'postgres' || !/template database .* does not exist/.test((err as Error).message)) throw err;
    await seed();
    await copy(server, stageShell(ctx), source, name);
  }
}

function sharedStage(): StageDefinition {
  return {
    name: 'shared',
    order: STAGE_ORDER.SHARED,
    plugin: PLUGIN_NAME,
    skip: (ctx) => noShared(ctx.operation),
    async run(ctx) {
      const { name } = ctx.operation.environment;
      if (sharedComposeProject(ctx.operation.project.name) === composeProjectName(ctx.operation.project.name, name)) {
        throw new PikoError('PIKO_ERR_NAME_INVALID', `shared failed: an environment named ${name} would have the compose project of the project's shared services`, { stage: 'shared', hint: 'Pick another name.' });
      }
      const plan = await ensureShared(ctx);
      const { environment, project } = ctx.operation;
      environment.shared = sharedUses(plan, environment.name);
      for (const { service, kind } of plan.services) {
        if (kind === 'none') ctx.info(`every environment of ${project.name} reads and writes the same ${service}`);
      }
    },
  };
}

/** The environment's databases, each made once: kept when it is there already (an earlier destroy kept it). */
function databaseStage(): StageDefinition {
  const made: { plan: SharedPlan; service: string; name: string }[] = [];
  return {
    name: 'database',
    order: STAGE_ORDER.DATABASE,
    plugin: PLUGIN_NAME,
    skip: (ctx) => noDatabase(ctx.operation),
    async run(ctx) {
      const { operation } = ctx;
      const plan = operation.data.get(PLAN_KEY) as SharedPlan;
      const from = (operation.request as CreateRequest).from;
      for (const use of operation.environment.shared ?? []) {
        if (!use.database) continue;
        const { name } = use.database;
        const server = await databaseServer(plan, use.service);
        const shared = plan.services.find((s) => s.service === use.service)!;
        const source = from === undefined ? shared.config.template : databaseName(plan.project, from);
        if (from !== undefined && !(await exists(server, source!))) {
          throw new PikoError('PIKO_ERR_STAGE_FAILED', `database failed: --from ${from}: it has no database ${source} on ${use.service} to copy`, { stage: 'database' });
        }
        try {
          if (source === undefined) await create(server, name);
          else await copyFrom(ctx, plan, server, source, name, from === undefined);
        } catch (err) {
          // Asked by making it, not before: one round trip less for every create.
          if (!/already exists|database exists/.test((err as Error).message)) throw err;
          ctx.info(`${name} on ${use.service} is there already (an earlier destroy kept it): this environment uses it as it is`);
          continue;
        }
        made.push({ plan, service: use.service, name });
        ctx.info(`${name} on ${use.service}: ${source === undefined ? 'a new, empty database' : `a copy of ${source}${from === undefined ? '' : ` (${from}'s)`}`}`);
      }
    },
    async rollback(ctx) {
      for (const { plan, service, name } of made.reverse()) {
        await drop(await databaseServer(plan, service), name);
        ctx.info(`dropped ${name} on ${service}`);
      }
    },
  };
}

function dropStage(): StageDefinition {
  return {
    name: 'database',
    order: STAGE_ORDER.DESTROY_DATABASE,
    plugin: PLUGIN_NAME,
    skip: (ctx) => noDatabase(ctx.operation),
    async run(ctx) {
      const { operation } = ctx;
      const request = operation.request as DestroyRequest;
      const databases = (operation.environment.shared ?? []).filter((use) => use.database);
      if (request.keepVolumes) {
        for (const use of databases) ctx.info(`kept ${use.database!.name} on ${use.service} (--keep-volumes): a create of ${operation.environment.name} uses it again`);
        return;
      }
      try {
        const plan = await ensureShared(ctx);
        for (const use of databases) {
          await drop(await databaseServer(plan, use.service), use.database!.name);
          ctx.info(`dropped ${use.database!.name} on ${use.service}`);
        }
      } catch (err) {
        if (!request.force) throw err;
        ctx.warn(`${(err as Error).message}; carrying on because of --force (the database stays)`);
      }
    },
  };
}

export class SharedServicesPlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      // A project that shares nothing sees none of these stages, not even skipped.
      if (!hasShared(operation.config)) return;
      if (operation.kind === 'create') {
        registry.add(sharedStage());
        registry.add(databaseStage());
      } else if (operation.kind === 'destroy') {
        registry.add(dropStage());
      } else if (operation.kind !== 'down') {
        registry.add(sharedStage());
      }
    });
  }
}
