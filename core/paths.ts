import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** `$PIKO_HOME`, or `~/.piko`. Everything piko keeps for itself lives here. */
export function pikoHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.PIKO_HOME;
  return home ? resolve(home) : join(homedir(), '.piko');
}

export const stateDbPath = (home: string): string => join(home, 'state.db');
export const logsDir = (home: string): string => join(home, 'logs');
export const operationLogPath = (home: string, operation: string): string =>
  join(logsDir(home), `${operation}.ndjson`);

/** Whether `path` is `dir` itself or inside it (both absolute). */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Where worktrees go unless the config says otherwise: inside the repository (the original tool's layout). */
export const DEFAULT_WORKTREES = '.piko/worktrees';

/**
 * Where an environment's files go: its worktree where `worktrees:` puts it (a folder, which gets
 * one worktree per environment, or a template with `{env}`; `{project}` filled in, a leading `~`
 * the home folder, relative to the repository), its data directory in the repository's `.piko/data`.
 */
export function environmentPaths(
  root: string,
  env: string,
  where: { project: string; worktrees?: string | undefined },
): { worktree: string; dataDir: string } {
  const template = where.worktrees ?? DEFAULT_WORKTREES;
  const withEnv = template.includes('{env}') ? template : join(template, '{env}');
  const filled = withEnv.replaceAll('{project}', where.project).replaceAll('{env}', env);
  const expanded = filled === '~' || filled.startsWith('~/') ? join(homedir(), filled.slice(1)) : filled;
  return {
    worktree: resolve(root, expanded),
    dataDir: join(root, '.piko', 'data', env),
  };
}

/** The names docker compose looks for, in its own order of preference. */
export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/** What the docker stage writes in the compose project folder and runs. */
export const PIKO_COMPOSE_FILE = 'docker-compose.piko.yml';

/** The compose project name: `piko-<project>-<env>`, lowered to what docker compose accepts. */
export function composeProjectName(project: string, env: string): string {
  return `piko-${project}-${env}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

/** The compose project of a project's shared services: `piko-<project>-shared`. */
export const sharedComposeProjectName = (project: string): string => composeProjectName(project, 'shared');
