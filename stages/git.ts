// The git stage: a worktree (at .piko/worktrees/<env> unless the config's `worktrees:` says
// otherwise) on a branch named <env> (new from --branch
// or HEAD, or the branch itself when it already exists), plus the environment's data dir.
// Destroy removes both, and the branch only when asked to.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../core/engine/engine.js';
import { PikoError } from '../core/errors.js';
import { branchExists, recordMadeFiles } from '../core/system/git.js';
import type { CreateRequest, DestroyRequest } from '../core/protocol/requests.js';
import { STAGE_ORDER } from '../core/engine/stage-order.js';

const PLUGIN_NAME = 'GitStagePlugin';

/** A path as the repository's people read it: relative when it is in the repository or next to it, else whole. */
function shortPath(root: string, path: string): string {
  const rel = relative(root, path);
  return isAbsolute(rel) || rel.startsWith(`..${sep}..`) ? path : rel;
}

export class GitStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') registry.add(createStage());
      if (operation.kind === 'destroy') registry.add(destroyStage());
    });
    // What the create's own stages left untracked in the worktree (prepare's `.env`) is recorded,
    // so a destroy tells it from a person's work.
    engine.hooks.settle.tapPromise(PLUGIN_NAME, async (operation, failure) => {
      if (operation.kind !== 'create' || failure || !existsSync(operation.environment.path)) return;
      // Without the record a destroy counts every untracked file as work: safe, so no reason to fail the create.
      await recordMadeFiles(operation.environment.path).catch(() => undefined);
    });
  }
}

function createStage(): StageDefinition {
  // What this run made, so a rollback removes exactly that and nothing it found.
  const made = { worktree: false, branch: false, dataDir: false };
  return {
    name: 'git',
    order: STAGE_ORDER.GIT,
    plugin: PLUGIN_NAME,
    async run(ctx: StageContext): Promise<void> {
      const { project, environment } = ctx.operation;
      const request = ctx.operation.request as CreateRequest;
      const root = project.root;
      if (existsSync(environment.path)) {
        throw new PikoError(
          'PIKO_ERR_PATH_EXISTS',
          `git failed: ${environment.path} already exists and piko did not make it`,
          { stage: 'git' },
        );
      }
      const existing = await branchExists(root, environment.name);
      // The path was free and the branch absent (or kept) a moment ago, so from here on whatever
      // appears there is ours to remove, even if `worktree add` fails halfway (a failing hook).
      made.worktree = true;
      made.branch = !existing;
      if (existing) {
        ctx.info(`using the existing branch '${environment.name}'`);
        await ctx.exec('git', ['worktree', 'add', environment.path, environment.name], { cwd: root });
      } else {
        const base = request.branch ?? 'HEAD';
        await ctx.exec('git', ['worktree', 'add', '-b', environment.name, environment.path, base], { cwd: root });
      }
      if (!existsSync(environment.dataDir)) {
        await mkdir(environment.dataDir, { recursive: true });
        made.dataDir = true;
        ctx.operation.info('piko', `created data directory ${relative(root, environment.dataDir)}`);
      }
    },
    async rollback(ctx: StageContext): Promise<void> {
      const { project, environment } = ctx.operation;
      const root = project.root;
      if (made.dataDir) await rm(environment.dataDir, { recursive: true, force: true });
      if (made.worktree) await removeWorktree(ctx, root, environment.path);
      if (made.branch && (await branchExists(root, environment.name))) {
        await ctx.exec('git', ['branch', '-D', environment.name], { cwd: root });
      }
    },
  };
}

function destroyStage(): StageDefinition {
  return {
    name: 'git',
    order: STAGE_ORDER.DESTROY_GIT,
    plugin: PLUGIN_NAME,
    async run(ctx: StageContext): Promise<void> {
      const { project, environment } = ctx.operation;
      const request = ctx.operation.request as DestroyRequest;
      const root = project.root;
      if (!existsSync(root)) {
        // The repository was moved or deleted, and the data dir with it (the worktree too, unless it was elsewhere).
        ctx.warn(`the repository ${root} is gone; nothing left to remove there`);
        if (existsSync(environment.path)) ctx.warn(`its worktree ${environment.path} is left as it is: remove it yourself once nothing in it is needed`);
        return;
      }
      if (existsSync(environment.path)) {
        // Whether the worktree may be thrown away was decided before the operation started.
        await removeWorktree(ctx, root, environment.path);
        ctx.info(`removed worktree ${shortPath(root, environment.path)}`);
      } else {
        ctx.warn(`worktree ${environment.path} was already gone`);
        await ctx.exec('git', ['worktree', 'prune'], { cwd: root });
      }
      if (existsSync(environment.dataDir)) {
        await rm(environment.dataDir, { recursive: true, force: true });
        ctx.operation.info('piko', `removed data directory ${relative(root, environment.dataDir)}`);
      }
      if (request.force || request.deleteBranch) {
        if (await branchExists(root, environment.branch)) {
          await ctx.exec('git', ['branch', '-D', environment.branch], { cwd: root });
        }
      } else {
        ctx.info(`kept branch '${environment.branch}' (destroy --delete-branch deletes it)`);
      }
    },
  };
}

async function removeWorktree(ctx: StageContext, root: string, path: string): Promise<void> {
  const removed = await ctx.exec('git', ['worktree', 'remove', '--force', path], { cwd: root, allowFailure: true });
  if (removed.exitCode !== 0) {
    // A worktree git no longer knows about (or a half-made one): remove the folder, then tell git.
    await rm(path, { recursive: true, force: true });
    await ctx.exec('git', ['worktree', 'prune'], { cwd: root });
  }
}
