// The docker stage. Once the worktree exists it plans the environment's compose project (so
// every later script sees PIKO_<SERVICE>_PORT), then `docker compose … up -d`; rollback and
// destroy bring the project down. Without a compose file the environment is `simple`.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  composeText,
  findComposeFile,
  parseCompose,
  parseDotEnv,
  PIKO_COMPOSE_FILE,
  portRequests,
  rewriteCompose,
} from '../core/compose.js';
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../core/engine.js';
import { PikoError } from '../core/errors.js';
import type { Operation } from '../core/operation.js';
import { composeProjectName } from '../core/paths.js';
import { allocatePorts } from '../core/ports.js';
import type { DestroyRequest } from '../core/protocol.js';
import { STAGE_ORDER } from '../core/stage-order.js';

const PLUGIN_NAME = 'DockerStagePlugin';

/** `docker compose -p <project> -f docker-compose.piko.yml <args>`, or without `-f` when the file is gone. */
function composeArgs(operation: Operation, ...args: string[]): string[] {
  const { composeProject, composeFile } = operation.environment;
  const file = composeFile && existsSync(composeFile) ? ['-f', basename(composeFile)] : [];
  return ['compose', '-p', composeProject!, ...file, ...args];
}

function composeDir(operation: Operation): string {
  const { composeFile } = operation.environment;
  return composeFile && existsSync(dirname(composeFile)) ? dirname(composeFile) : operation.project.root;
}

/** Runs a compose command; a missing docker or an unreachable daemon becomes an error that says so. */
async function compose(ctx: StageContext, args: string[]): Promise<void> {
  const result = await ctx.exec('docker', args, { cwd: composeDir(ctx.operation), allowFailure: true });
  if (result.exitCode === 0) return;
  if (result.spawnError !== undefined) {
    throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', `docker failed: docker is not installed (not found on PATH)`, {
      stage: 'docker',
    });
  }
  const command = `docker ${args.join(' ')}`;
  throw new PikoError(
    'PIKO_ERR_STAGE_FAILED',
    `docker failed: \`${command}\` exited with code ${result.exitCode ?? result.signal}`,
    { stage: 'docker', command, ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }) },
  );
}

/** Fails fast, and clearly, when there is no docker or no daemon to talk to. */
async function requireDaemon(ctx: StageContext): Promise<void> {
  const result = await ctx.exec('docker', ['version', '--format', '{{.Server.Version}}'], {
    cwd: ctx.operation.project.root,
    allowFailure: true,
  });
  if (result.exitCode === 0) return;
  throw new PikoError(
    'PIKO_ERR_DOCKER_UNAVAILABLE',
    result.spawnError !== undefined
      ? 'docker failed: docker is not installed (not found on PATH)'
      : `docker failed: cannot reach the Docker daemon (\`docker version\` exited with code ${result.exitCode ?? result.signal})`,
    { stage: 'docker', ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }) },
  );
}

/** Reads the worktree's compose file, allocates ports and writes docker-compose.piko.yml. */
async function plan(operation: Operation): Promise<void> {
  const environment = operation.environment;
  const file = findComposeFile(environment.path);
  if (!file) {
    environment.mode = 'simple';
    return;
  }
  const name = basename(file);
  const text = await readFile(file, 'utf8');
  const doc = parseCompose(text, name);
  const dotEnv = join(dirname(file), '.env');
  const vars = {
    ...(existsSync(dotEnv) ? parseDotEnv(await readFile(dotEnv, 'utf8')) : {}),
    ...process.env,
    ...operation.vars(),
  };
  const composeProject = composeProjectName(operation.project.name, environment.name);
  const bindings = await allocatePorts(environment.id, portRequests(doc, name, vars));
  const out = join(dirname(file), PIKO_COMPOSE_FILE);
  await writeFile(out, composeText(rewriteCompose(doc, name, vars, composeProject, bindings), name, environment.name));
  Object.assign(environment, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  // Saved at once, so a destroy after a crash mid-create knows there are containers to remove.
  operation.state.updateEnvironment(environment.id, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  for (const port of bindings) {
    operation.info('docker', `${port.service}: ${port.containerPort}/${port.protocol} → localhost:${port.hostPort}`);
  }
  operation.info('docker', `wrote ${PIKO_COMPOSE_FILE} for compose project ${composeProject}`);
}

function createStage(): StageDefinition {
  let started = false;
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    skip: (ctx) => (ctx.operation.environment.mode === 'simple' ? 'no compose file: simple mode' : undefined),
    async run(ctx) {
      await requireDaemon(ctx);
      started = true;
      await compose(ctx, composeArgs(ctx.operation, 'up', '-d'));
    },
    async rollback(ctx) {
      if (started) await compose(ctx, composeArgs(ctx.operation, 'down', '-v', '--remove-orphans'));
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
      const args = composeArgs(ctx.operation, 'down', ...(request.keepVolumes ? [] : ['-v']), '--remove-orphans');
      try {
        await requireDaemon(ctx);
        await compose(ctx, args);
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

export class DockerStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') registry.add(createStage());
      if (operation.kind === 'destroy') registry.add(destroyStage());
    });
    // Ports are planned as soon as the worktree exists, so `prepare` already sees them.
    engine.hooks.stageEnd.tapPromise(PLUGIN_NAME, async (stage, operation, result) => {
      if (operation.kind === 'create' && stage.name === 'git' && result.ok) await plan(operation);
    });
  }
}
