// The copy stage (between git and prepare): a new worktree gets a copy of the ignored files its
// setup would otherwise rebuild (`node_modules`, `.venv`, `target/`, `.env`), named by the
// `.worktreeinclude` file of the worktree copied from, or by the config's `copy:`. Copied from
// the repository, or from another environment with `piko create --from <env>`; copy-on-write
// where the file system can. Rolled back with the rest: what it made goes, nothing else.
import { existsSync } from 'node:fs';
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Engine, PikoPlugin, StageDefinition } from '../../core/engine/engine.js';
import { STAGE_ORDER } from '../../core/engine/stage-order.js';
import { PikoError } from '../../core/errors.js';
import { ignoredThere, INCLUDE_FILE, selectCopies } from './select.js';
import { TreeCopier } from './tree.js';

const PLUGIN_NAME = 'CopyStagePlugin';

/** `412 MB`, `3.1 kB`: sizes as people read them. */
function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * The folders `listed` goes in (relative, `/`-separated; a folder itself too, when it ends with
 * `/`) inside `root`, checked one at a time and never followed through a link, so a link the new
 * branch tracks (`config -> /elsewhere`) cannot take the copy out of the worktree. Returns the
 * first that is something else (a link, a file), if any. With `made`, makes those missing and
 * tells it the outermost one it made.
 */
async function foldersFor(root: string, listed: string, made?: (path: string) => void): Promise<string | undefined> {
  const parts = listed.split('/').slice(0, -1);
  let dir = root;
  let making = false;
  for (const part of parts) {
    dir = join(dir, part);
    const stats = making ? undefined : await lstat(dir).catch(() => undefined);
    if (stats && !stats.isDirectory()) return relative(root, dir);
    if (stats || !made) continue;
    await mkdir(dir);
    if (!making) made(dir);
    making = true;
  }
  return undefined;
}

function createStage(): StageDefinition {
  // What this run made (and whose folder it did not make), so a rollback removes exactly that.
  const made: string[] = [];
  // Whether the source has a .worktreeinclude: looked at once, by `skip`, which runs just before `run`.
  let includeFile = false;
  return {
    name: 'copy',
    order: STAGE_ORDER.COPY,
    plugin: PLUGIN_NAME,
    skip(ctx) {
      includeFile = existsSync(join(ctx.operation.source, INCLUDE_FILE));
      if (!includeFile && !ctx.operation.config.copy?.length) return `no ${INCLUDE_FILE} in ${ctx.operation.source} and no copy: in the config`;
      return undefined;
    },
    async run(ctx) {
      const { source, environment } = ctx.operation;
      const target = environment.path;
      const from = source === ctx.operation.project.root ? 'the repository' : source;
      const chosen = await selectCopies(source, ctx.operation.config.copy ?? [], includeFile, relative(source, target));
      if (chosen.length === 0) {
        ctx.info(`nothing to copy: no file that git ignores in ${from} matches ${INCLUDE_FILE} or copy:`);
        return;
      }
      const blocked = (path: string, inTheWay: string) =>
        ctx.info(`${path.replace(/\/$/, '')} left out: ${inTheWay} in this worktree is not a folder (a link or a file its branch has)`);
      const open: string[] = [];
      for (const listed of chosen) {
        const inTheWay = await foldersFor(target, listed);
        if (inTheWay === undefined) open.push(listed);
        else blocked(listed, inTheWay);
      }
      const { copy, leftOut } = await ignoredThere(source, target, open);
      for (const path of leftOut) ctx.info(`${path.replace(/\/$/, '')} left out: this worktree's branch does not ignore it (a copy would show as a change)`);
      const copier = new TreeCopier({ sourceRoot: source, targetRoot: target, signal: ctx.signal, made: (path) => made.push(path) });
      for (const listed of copy) {
        ctx.signal.throwIfAborted();
        const path = listed.replace(/\/$/, '');
        const inTheWay = await foldersFor(target, path, (folder) => made.push(folder));
        if (inTheWay !== undefined) {
          blocked(path, inTheWay);
          continue;
        }
        const to = join(target, path);
        const started = performance.now();
        const totals = await copier.copy(join(source, path), to).catch((err: unknown) => {
          if (err instanceof PikoError) throw err;
          throw new PikoError('PIKO_ERR_STAGE_FAILED', `copy failed: ${path} from ${from}: ${(err as Error).message}`, { stage: 'copy' });
        });
        const how = totals.files === 0 ? '' : copier.reflinked ? ' (reflink)' : ' (copied: no reflinks on this file system)';
        const kept = totals.kept === 0 ? '' : `; ${totals.kept} already there, left as ${totals.kept === 1 ? 'it was' : 'they were'}`;
        ctx.info(`${path} ${formatSize(totals.bytes)} in ${seconds(performance.now() - started)}${how}${kept}`);
      }
    },
    async rollback() {
      for (const path of made.reverse()) await rm(path, { recursive: true, force: true });
      made.length = 0;
    },
  };
}

export class CopyStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') registry.add(createStage());
    });
  }
}
