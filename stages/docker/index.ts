// The docker stage: `docker compose … up -d` of the environment's own compose project, from
// the docker-compose.piko.yml it writes in the compose project folder (the merged model of every
// file plain `docker compose up` would read, made per-environment). Rollback and destroy bring
// the project down and remove what compose left behind. Without a compose file the environment
// is `simple`.
//
// Ports are planned twice. As soon as the worktree exists (so `prepare` already sees
// PIKO_<SERVICE>_PORT), if the compose files can be read then; and again just before `up`, since
// `prepare` may have written the `.env` they read. The second plan keeps the first one's ports
// when the model still publishes the same container ports.
import { existsSync, lstatSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../../core/engine.js';
import { PikoError } from '../../core/errors.js';
import { commandError, displayCommand } from '../../core/exec.js';
import type { Operation } from '../../core/operation.js';
import { composeProjectName, PIKO_COMPOSE_FILE } from '../../core/paths.js';
import type { DestroyRequest, PortBinding } from '../../core/protocol.js';
import { STAGE_ORDER } from '../../core/stage-order.js';
import { composeCommand, removeProject, requireCompose, requireDaemon, type ComposeTool } from './compose-cli.js';
import { composeFiles, loadCompose } from './load.js';
import { allocatePorts, type PortRequest } from './ports.js';
import { publishedPorts } from '../../core/vars.js';
import { parseDotEnv, portRequests, rewriteCompose } from './rewrite.js';
import { writeComposeYaml } from './yaml.js';

const PLUGIN_NAME = 'DockerStagePlugin';
const TOOL_KEY = `${PLUGIN_NAME}:compose`;
const SAID_KEY = `${PLUGIN_NAME}:said`;

/** The compose this operation uses, looked for once per operation (the tmux stage asks too). */
export async function composeToolFor(operation: Operation): Promise<ComposeTool> {
  let tool = operation.data.get(TOOL_KEY) as Promise<ComposeTool> | undefined;
  if (!tool) {
    tool = requireCompose();
    operation.data.set(TOOL_KEY, tool);
    tool.catch(() => operation.data.delete(TOOL_KEY));
  }
  return tool;
}

/** The environment's compose file when it is still there (Compose v2's `down` does without it). */
function pikoFile(operation: Operation): string | undefined {
  const { composeFile } = operation.environment;
  return composeFile && existsSync(composeFile) ? composeFile : undefined;
}

/** Where compose runs: beside the file, or anywhere that exists when it is gone (`-p` is enough for `down`). */
function composeDir(operation: Operation): string {
  const { composeFile } = operation.environment;
  if (composeFile && existsSync(dirname(composeFile))) return dirname(composeFile);
  return existsSync(operation.project.root) ? operation.project.root : homedir();
}

/** Runs a docker compose command in the stage, its output streamed; a failure names the command and its exit code. */
async function docker(ctx: StageContext, file: string, args: string[]): Promise<void> {
  const result = await ctx.exec(file, args, { cwd: composeDir(ctx.operation), allowFailure: true });
  if (result.exitCode === 0) return;
  if (result.spawnError !== undefined) {
    throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', `docker failed: ${file} is not installed (not found on PATH)`, { stage: 'docker' });
  }
  throw ctx.operation.cancelReason ?? commandError('docker', displayCommand(file, args), result);
}

/** Fails fast, and clearly, when there is no docker, no daemon, or no compose to talk to it. */
async function requireEngine(ctx: StageContext): Promise<ComposeTool> {
  await requireDaemon(ctx.signal);
  return composeToolFor(ctx.operation);
}

/** `compose -p <project> -f docker-compose.piko.yml <args>` in the stage. */
async function compose(ctx: StageContext, tool: ComposeTool, args: string[]): Promise<void> {
  const { composeProject } = ctx.operation.environment;
  const file = pikoFile(ctx.operation);
  await docker(ctx, ...composeCommand(tool, composeProject!, file && basename(file), args));
}

/** Brings the project down, then removes what `down` left (or could not reach without its file). */
async function takeDown(ctx: StageContext, options: { volumes: boolean }): Promise<void> {
  const tool = await requireEngine(ctx);
  const project = ctx.operation.environment.composeProject!;
  // Compose v1 cannot `down` a project whose file is gone; the engine's labels still find it.
  if (pikoFile(ctx.operation) || tool.major === 2) {
    await compose(ctx, tool, ['down', ...(options.volumes ? ['-v'] : []), '--remove-orphans']);
  }
  const left = await removeProject(project, options);
  const removed = [`${left.containers} container(s)`, `${left.networks} network(s)`, `${left.volumes} volume(s)`].filter((text) => !text.startsWith('0 '));
  if (removed.length > 0) ctx.info(`removed ${removed.join(', ')} of ${project} that compose left behind`);
}

interface Plan {
  requests: PortRequest[];
  bindings: PortBinding[];
}

const sameRequests = (a: PortRequest[], b: PortRequest[]): boolean =>
  a.length === b.length &&
  a.every((r, i) => r.service === b[i]!.service && r.containerPort === b[i]!.containerPort && r.protocol === b[i]!.protocol && r.replicas === b[i]!.replicas);

/** Says `text` under [docker] unless this operation has said it already. */
function sayOnce(operation: Operation, text: string, stream: 'stdout' | 'stderr'): void {
  let said = operation.data.get(SAID_KEY) as Set<string> | undefined;
  if (!said) operation.data.set(SAID_KEY, (said = new Set()));
  if (said.has(text)) return;
  said.add(text);
  operation.info('docker', text, stream);
}

/**
 * Reads the worktree's compose model, gives every published port a host port and writes
 * docker-compose.piko.yml. `previous` is an earlier plan whose ports are kept when the model
 * still asks for the same ones.
 */
async function plan(operation: Operation, previous: Plan | undefined): Promise<Plan | undefined> {
  const environment = operation.environment;
  const files = composeFiles(environment.path, operation.config.compose);
  if (!files) {
    environment.mode = 'simple';
    return undefined;
  }
  const model = loadCompose(environment.path, files);
  const out = join(model.dir, PIKO_COMPOSE_FILE);
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
  const dotEnv = join(model.dir, '.env');
  const vars = {
    ...(existsSync(dotEnv) ? parseDotEnv(await readFile(dotEnv, 'utf8')) : {}),
    ...process.env,
    ...operation.vars(),
  };
  const shown = model.files.join(' + ');
  const requests = portRequests(model.doc, shown, vars);
  const bindings =
    previous && sameRequests(previous.requests, requests)
      ? previous.bindings
      : await allocatePorts(environment.id, requests);
  const rewritten = rewriteCompose(model.doc, {
    file: shown,
    vars,
    composeProject,
    id: environment.id,
    bindings,
    ownPaths: [environment.path, environment.dataDir],
  });
  const header = `# Written by piko for environment ${environment.name} from ${model.files.join(', ')}: edit ${model.files.length > 1 ? 'those' : 'that file'}, not this one.\n`;
  await writeFile(out, header + writeComposeYaml(rewritten.doc));
  Object.assign(environment, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  // Saved at once, so a destroy after a crash mid-create knows there are containers to remove.
  operation.state.updateEnvironment(environment.id, { mode: 'docker', composeProject, composeFile: out, ports: bindings });
  if (bindings !== previous?.bindings) {
    for (const port of bindings) {
      const replicas = port.replicas ? ` (${port.replicas} replicas)` : '';
      operation.info('docker', `${port.service}: ${port.containerPort}/${port.protocol} → localhost:${publishedPorts(port)}${replicas}`);
    }
  }
  for (const note of rewritten.notes) sayOnce(operation, note, 'stdout');
  for (const warning of rewritten.warnings) sayOnce(operation, `warning: ${warning}`, 'stderr');
  return { requests, bindings };
}

/** Whether the worktree has compose files; a config that names missing ones runs the stage, which says so. */
function hasCompose(operation: Operation): boolean {
  try {
    return composeFiles(operation.environment.path, operation.config.compose) !== undefined;
  } catch {
    return true;
  }
}

function createStage(): StageDefinition {
  let started = false;
  return {
    name: 'docker',
    order: STAGE_ORDER.DOCKER,
    plugin: PLUGIN_NAME,
    skip: (ctx) => (hasCompose(ctx.operation) ? undefined : 'no compose file: simple mode'),
    async run(ctx) {
      const early = ctx.operation.data.get(PLUGIN_NAME) as Plan | undefined;
      await plan(ctx.operation, early);
      const tool = await requireEngine(ctx);
      started = true;
      await compose(ctx, tool, ['up', '-d']);
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
      await compose(ctx, await requireEngine(ctx), [...LIFECYCLE[kind].args]);
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
        // Files only `prepare` can complete (a .env, a generated compose file) are planned by
        // the docker stage; files that are simply wrong fail there too, with the same error.
        if (!(err instanceof PikoError) || (err.code !== 'PIKO_ERR_COMPOSE_INVALID' && err.code !== 'PIKO_ERR_CONFIG_INVALID')) throw err;
      }
    });
  }
}
