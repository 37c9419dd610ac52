// Running docker compose from a stage: found once per operation (v2 or v1), the daemon checked
// first, every command's output streamed under [docker], and taking a project down so that
// nothing of it is left (what `down` could not reach is removed by the engine's labels).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import type { StageContext } from '../../core/engine/engine.js';
import { commandError, displayCommand } from '../../core/engine/exec.js';
import type { Operation } from '../../core/engine/operation.js';
import { PikoError } from '../../core/errors.js';
import { composeCommand, removeProject, requireCompose, requireDaemon, type ComposeTool } from './compose-cli.js';
import { leaveNetworks } from './networks.js';

const TOOL_KEY = 'DockerStagePlugin:compose';

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
export async function requireEngine(ctx: StageContext): Promise<ComposeTool> {
  await requireDaemon(ctx.signal);
  return composeToolFor(ctx.operation);
}

/** `compose -p <project> -f docker-compose.piko.yml <args>` in the stage. */
export async function compose(ctx: StageContext, tool: ComposeTool, args: string[]): Promise<void> {
  const { composeProject } = ctx.operation.environment;
  const file = pikoFile(ctx.operation);
  await docker(ctx, ...composeCommand(tool, composeProject!, file && basename(file), args));
}

/**
 * Brings the project down, then (unless `remove` is false: a plain `piko down`) removes what
 * `down` left or could not reach without its file. The shared services leave its networks first.
 */
export async function takeDown(ctx: StageContext, options: { volumes: boolean; remove?: boolean }): Promise<void> {
  const tool = await requireEngine(ctx);
  const project = ctx.operation.environment.composeProject!;
  if (ctx.operation.environment.shared?.length) await leaveNetworks(project);
  if (options.remove === false) {
    await compose(ctx, tool, ['down']);
    return;
  }
  // Compose v1 cannot `down` a project whose file is gone; the engine's labels still find it.
  if (pikoFile(ctx.operation) || tool.major === 2) {
    await compose(ctx, tool, ['down', ...(options.volumes ? ['-v'] : []), '--remove-orphans']);
  }
  const left = await removeProject(project, options);
  const removed = [`${left.containers} container(s)`, `${left.networks} network(s)`, `${left.volumes} volume(s)`].filter((text) => !text.startsWith('0 '));
  if (removed.length > 0) ctx.info(`removed ${removed.join(', ')} of ${project} that compose left behind`);
}
