// Leftover worktrees (and the branches they hold) and data dirs: found by where a project puts
// them, and told apart from what piko did not make.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { environmentNameProblem } from '../environment/names.js';
import { environmentPaths, isWithin, PIKO_COMPOSE_FILE } from '../paths.js';
import { changesMade, git } from '../system/git.js';
import { command, plural, type Accounted, type Leftover, type LeftoverProject } from './report.js';

/** Stands for the environment's name in a place's path; no name or path can hold it. */
const MARKER = '\u0000env\u0000';
const NAME_PATTERN = '([a-z0-9][a-z0-9_-]{0,62})';
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a project's worktrees go, as a pattern: which path is whose. */
interface Place {
  /** The worktree path of each environment: `(env) => path`. */
  pathOf(env: string): string;
  /** The environment whose worktree `path` would be, if any. */
  envOf(path: string): string | undefined;
  /** The folder that holds one worktree per environment, and which of its entries are one, when the name is in the last part of the path. */
  folder?: { dir: string; envOf(entry: string): string | undefined };
}

function placeOf(project: LeftoverProject, worktrees: string | undefined): Place {
  const template = environmentPaths(project.root, MARKER, { project: project.name, worktrees }).worktree;
  const parts = template.split(MARKER);
  // The first occurrence captures the name; a template naming {env} twice must name the same one.
  const matcher = (pieces: string[]) => new RegExp(`^${pieces.map(escapeRegExp).reduce((re, piece, i) => `${re}${i === 1 ? NAME_PATTERN : '\\1'}${piece}`)}$`);
  const whole = matcher(parts);
  const found = (re: RegExp, text: string) => {
    const name = re.exec(text)?.[1];
    return name !== undefined && environmentNameProblem(name) === undefined ? name : undefined;
  };
  const last = basename(template);
  const inLastPart = last.includes(MARKER) && !dirname(template).includes(MARKER);
  const entry = matcher(last.split(MARKER));
  return {
    pathOf: (env) => template.replaceAll(MARKER, env),
    envOf: (path) => found(whole, path),
    ...(inLastPart ? { folder: { dir: dirname(template), envOf: (name: string) => found(entry, name) } } : {}),
  };
}

/** The places to look: where the config puts worktrees, and piko's own folder (where they were before a `worktrees:`). */
function placesOf(project: LeftoverProject): Place[] {
  const places = [placeOf(project, project.worktrees)];
  if (project.worktrees !== undefined) places.push(placeOf(project, undefined));
  return places;
}

interface GitWorktree {
  path: string;
  branch?: string;
  prunable: boolean;
}

/** The repository's linked worktrees as git records them (not the main one); undefined when git cannot say. */
async function gitWorktrees(root: string): Promise<GitWorktree[] | undefined> {
  if (!existsSync(root)) return undefined;
  const listed = await git(root, ['worktree', 'list', '--porcelain']);
  if (!listed.ok) return undefined;
  const blocks = listed.stdout.split(/\n\n+/).map((block) => block.split('\n'));
  return blocks.slice(1).flatMap((block) => {
    const path = block.find((line) => line.startsWith('worktree '))?.slice('worktree '.length);
    if (path === undefined) return [];
    const branch = block.find((line) => line.startsWith('branch refs/heads/'))?.slice('branch refs/heads/'.length);
    return [{ path, prunable: block.some((line) => line.startsWith('prunable')), ...(branch === undefined ? {} : { branch }) }];
  });
}

/**
 * Whether a folder git no longer lists is piko's: inside the repository's own `.piko/`, or a
 * worktree of this repository by its `.git` file (a folder elsewhere that merely fits the
 * template may be someone else's).
 */
function madeHere(root: string, path: string): boolean {
  if (isWithin(path, join(root, '.piko'))) return true;
  try {
    const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(join(path, '.git'), 'utf8'))?.[1];
    return gitdir !== undefined && isWithin(resolve(path, gitdir.trim()), join(root, '.git', 'worktrees'));
  } catch {
    return false;
  }
}

const isDirectory = (path: string): boolean => {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
};

export async function worktreeLeftovers(project: LeftoverProject, accounted: readonly Accounted[], only: string | undefined): Promise<Leftover[]> {
  const { root } = project;
  const places = placesOf(project);
  const taken = new Set(accounted.map((row) => row.path));
  const envOf = (path: string) => places.map((place) => place.envOf(path)).find((env) => env !== undefined);
  const found = new Map<string, { env: string; git: 'registered' | 'missing' | 'unregistered'; branch?: string }>();
  const consider = (path: string, env: string | undefined, how: 'registered' | 'missing' | 'unregistered', branch?: string) => {
    if (env === undefined || (only !== undefined && env !== only) || taken.has(path) || found.has(path)) return;
    found.set(path, { env, git: how, ...(branch === undefined ? {} : { branch }) });
  };
  for (const tree of (await gitWorktrees(root)) ?? []) {
    const missing = tree.prunable || !existsSync(tree.path);
    consider(tree.path, envOf(tree.path), missing ? 'missing' : 'registered', tree.branch);
  }
  // Folders git no longer lists (its record was pruned, or the folder was copied back).
  if (only !== undefined) {
    for (const place of places) {
      const path = place.pathOf(only);
      if (isDirectory(path) && madeHere(root, path)) consider(path, only, 'unregistered');
    }
  } else {
    for (const place of places) {
      if (!place.folder) continue;
      let entries: string[] = [];
      try {
        entries = readdirSync(place.folder.dir);
      } catch {
        continue;
      }
      for (const entry of entries) {
        const path = join(place.folder.dir, entry);
        const env = place.folder.envOf(entry);
        if (env !== undefined && isDirectory(path) && madeHere(root, path)) consider(path, env, 'unregistered');
      }
    }
  }
  const leftovers = await Promise.all(
    [...found].map(async ([path, tree]): Promise<Leftover[]> => {
      const changes = tree.git === 'registered' ? (await changesMade(path)).filter((line) => !line.endsWith(` ${PIKO_COMPOSE_FILE}`)).length : undefined;
      const details = [
        tree.branch === undefined ? undefined : `branch ${tree.branch}`,
        tree.git === 'missing' ? 'its folder is gone, git still records it' : undefined,
        tree.git === 'unregistered' ? 'git no longer lists it as a worktree' : undefined,
        changes ? plural(changes, 'uncommitted change') : undefined,
      ].filter((d) => d !== undefined);
      const worktree: Leftover = {
        kind: 'worktree',
        project: project.name,
        root,
        environment: tree.env,
        path,
        git: tree.git,
        ...(tree.branch === undefined ? {} : { branch: tree.branch }),
        ...(changes === undefined ? {} : { changes }),
        what: `worktree ${path}${details.length ? ` (${details.join(', ')})` : ''}`,
        remove: [
          tree.git === 'registered'
            ? command('git', '-C', root, 'worktree', 'remove', '--force', path)
            : tree.git === 'missing'
              ? command('git', '-C', root, 'worktree', 'prune')
              : command('rm', '-rf', path),
        ],
      };
      if (tree.branch === undefined) return [worktree];
      const branch: Leftover = {
        kind: 'branch',
        project: project.name,
        root,
        environment: tree.env,
        branch: tree.branch,
        worktree: path,
        what: `branch ${tree.branch}, checked out in that worktree`,
        remove: [],
        keep: {
          note: `the branch ${tree.branch} stays (a create of ${tree.env} checks it out as it is); to delete it and its commits too:`,
          remove: [command('git', '-C', root, 'branch', '-D', tree.branch)],
        },
      };
      return [worktree, branch];
    }),
  );
  return leftovers.flat();
}

// ---- data dirs --------------------------------------------------------------------------------

export function dataDirLeftovers(project: LeftoverProject, accounted: readonly Accounted[], only: string | undefined): Leftover[] {
  const dir = join(project.root, '.piko', 'data');
  let names: string[];
  if (only !== undefined) names = [only];
  else {
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
  }
  const taken = new Set(accounted.map((row) => row.dataDir));
  return names
    .filter((name) => environmentNameProblem(name) === undefined && isDirectory(join(dir, name)) && !taken.has(join(dir, name)))
    .map((name) => {
      const path = join(dir, name);
      return { kind: 'data-dir', project: project.name, root: project.root, environment: name, path, what: `data dir ${path}`, remove: [command('rm', '-rf', path)] };
    });
}
