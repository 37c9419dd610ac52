// The docker stage: `docker compose … up -d` of the environment's own compose project, from
// the docker-compose.piko.yml it writes beside the worktree's compose file. Rollback and destroy
// bring the project down. Without a compose file the environment is `simple`.
//
// Ports are planned twice. As soon as the worktree exists (so `prepare` already sees
// PIKO_<SERVICE>_PORT), if the compose file can be read then; and again just before `up`, since
// `prepare` may have written the `.env` the compose file reads. The second plan keeps the first
// one's ports when the file still publishes the same container ports.
import { existsSync, lstatSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
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
import { commandError, displayCommand } from '../core/exec.js';
import type { Operation } from '../core/operation.js';
import { composeProjectName } from '../core/paths.js';
import { allocatePorts, type PortRequest } from '../core/ports.js';
import type { DestroyRequest, PortBinding } from '../core/protocol.js';
import { STAGE_ORDER } from '../core/stage-order.js';

const PLUGIN_NAME = 'DockerStagePlugin';

/** `docker compose -p <project> -f docker-compose.piko.yml <args>`, or without `-f` when the file is gone. */
function composeArgs(operation: Operation, ...args: string[]): string[] {
  const { composeProject, composeFile } = operation.environment;
  const file = composeFile && existsSync(composeFile) ? ['-f', basename(composeFile)] : [];
  return ['compose', '-p', composeProject!, ...file, ...args];
}

/** Where compose runs: beside the file, or anywhere that exists when it is gone (`-p` is enough for `down`). */
function composeDir(operation: Operation): string {
  const { composeFile } = operation.environment;
  if (composeFile && existsSync(dirname(composeFile))) return dirname(composeFile);
  return existsSync(operation.project.root) ? operation.project.root : homedir();
}

/**
 * Runs `docker <args>`; a docker that is not installed, or a daemon it cannot reach (`version`
 * fails), becomes an error that says so.
 */
async function docker(ctx: StageContext, args: string[]): Promise<void> {
  const result = await ctx.exec('docker', args, { cwd: composeDir(ctx.operation), allowFailure: true });
  if (result.exitCode === 0) return;
  if (result.spawnError !== undefined) {
    throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', 'docker failed: docker is not installed (not found on PATH)', { stage: 'docker' });
  }
  if (args[0] === 'version' && result.exitCode !== undefined) {
    throw new PikoError(
      'PIKO_ERR_DOCKER_UNAVAILABLE',
      `docker failed: cannot reach the Docker daemon (\`docker version\` exited with code ${result.exitCode})`,
      { stage: 'docker', exitCode: result.exitCode },
    );
  }
  throw ctx.operation.cancelReason ?? commandError('docker', displayCommand('docker', args), result);
}

/** Fails fast, and clearly, when there is no docker or no daemon to talk to. */
const requireDaemon = (ctx: StageContext): Promise<void> => docker(ctx, ['version', '--format', '{{.Server.Version}}']);

interface Plan {
  requests: PortRequest[];
  bindings: PortBinding[];
}

const sameRequests = (a: PortRequest[], b: PortRequest[]): boolean =>
  a.length === b.length &&
  a.every((r, i) => r.service === b[i]!.service && r.containerPort === b[i]!.containerPort && r.protocol === b[i]!.protocol);

/**
 * Reads the worktree's compose file, gives every published port a host port and writes
 * docker-compose.piko.yml. `previous` is an earlier plan whose ports are kept when the file
 * still asks for the same ones.
 */
async function plan(operation: Operation, previous: Plan | undefined): Promise<Plan | undefined> {
  const environment = operation.environment;
  const file = findComposeFile(environment.path);
  if (!file) {
    environment.mode = 'simple';
    return undefined;
  }
  const name = basename(file);
  const out = join(dirname(file), PIKO_COMPOSE_FILE);
  if (!previous && existsSync(out)) {
    throw new PikoError(
      'PIKO_ERR_PATH_EXISTS',
      `the repository has its own ${PIKO_COMPOSE_FILE}${lstatSync(out).isSymbolicLink() ? ' (a symbolic link)' : ''}; piko writes that file, so rename yours`,
      { stage: 'docker' },
    );
  }
  const composeProject = composeProjectName(operation.project.name, environment.name);
  const clash = operation.state
    .listEnvironments()
    .find((other) => other.id !== environment.id && other.composeProject === composeProject);
  if (clash) {
    throw new PikoError(
      'PIKO_ERR_ENV_EXISTS',
      `environment ${clash.project}/${clash.name} already uses the compose project ${composeProject}`,
      { stage: 'docker' },
    );
  }
  const doc = parseCompose(await readFile(file, 'utf8'), name);
  const dotEnv = join(dirname(file), '.env');
  const vars = {
    ...(existsSync(dotEnv) ? parseDotEnv(await readFile(dotEnv, 'utf8')) : {}),
    ...process.env,
    ...operation.vars(),
  };
  const requests = portRequests(doc, name, vars);
  const bindings =
    previous && sameRequests(previous.requests, requests)
      ? previous.bindings
      : await allocatePorts(environment.id, requests);
  await writeFile(out, composeText(rewriteCompose(doc, name, vars, composeProject, bindings), name, environment.name));
  Object.assign(environment, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  // Saved at once, so a destroy after a crash mid-create knows there are containers to remove.
  operation.state.updateEnvironment(environment.id, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  if (bindings !== previous?.bindings) {
    for (const port of bindings) {
      operation.info('docker', `${port.service}: ${port.containerPort}/${port.protocol} → localhost:${port.hostPort}`);
    }
  }
  return { requests, bindings };
}

function createStage(): StageDefinition {
  let started = false;
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    skip: (ctx) => (findComposeFile(ctx.operation.environment.path) ? undefined : 'no compose file: simple mode'),
    async run(ctx) {
      const early = ctx.operation.data.get(PLUGIN_NAME) as Plan | undefined;
      await plan(ctx.operation, early);
      await requireDaemon(ctx);
      started = true;
      await docker(ctx, composeArgs(ctx.operation, 'up', '-d'));
    },
    async rollback(ctx) {
      if (started) await docker(ctx, composeArgs(ctx.operation, 'down', '-v', '--remove-orphans'));
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
        await docker(ctx, args);
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

/** `piko up`, `down` and `restart`: one compose command, and the status it leaves. */
const LIFECYCLE = {
  up: { args: ['up', '-d'], status: 'running' },
  down: { args: ['down'], status: 'stopped' },
  restart: { args: ['restart'], status: 'running' },
} as const;

function lifecycleStage(kind: keyof typeof LIFECYCLE): StageDefinition {
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    async run(ctx) {
      await requireDaemon(ctx);
      await docker(ctx, composeArgs(ctx.operation, ...LIFECYCLE[kind].args));
      ctx.operation.environment.status = LIFECYCLE[kind].status;
    },
  };
}

export class DockerStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') registry.add(createStage());
      else if (operation.kind === 'destroy') registry.add(destroyStage());
      else registry.add(lifecycleStage(operation.kind));
    });
    // The early plan: only what can be known before `prepare` runs; the docker stage plans again.
    engine.hooks.stageEnd.tapPromise(PLUGIN_NAME, async (stage, operation, result) => {
      if (operation.kind !== 'create' || stage.name !== 'git' || !result.ok) return;
      try {
        const early = await plan(operation, undefined);
        if (early) operation.data.set(PLUGIN_NAME, early);
      } catch (err) {
        // A file only `prepare` can complete (its .env, say) is planned by the docker stage;
        // a file that is simply wrong fails there too, with the same error.
        if (!(err instanceof PikoError) || err.code !== 'PIKO_ERR_COMPOSE_INVALID') throw err;
      }
    });
  }
}
