import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** `$PIKO_HOME`, or `~/.piko`. Everything piko keeps for itself lives here. */
export function pikoHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.PIKO_HOME;
  return home ? resolve(home) : join(homedir(), '.piko');
}

export const stateDbPath = (home: string): string => join(home, 'state.db');
export const logsDir = (home: string): string => join(home, 'logs');
export const operationLogPath = (home: string, operation: string): string =>
  join(logsDir(home), `${operation}.ndjson`);

/** Where an environment's files go inside its repository (the original tool's layout). */
export function environmentPaths(root: string, env: string): { worktree: string; dataDir: string } {
  return {
    worktree: join(root, '.piko', 'worktrees', env),
    dataDir: join(root, '.piko', 'data', env),
  };
}

/** What the docker stage writes in the compose project folder and runs. */
export const PIKO_COMPOSE_FILE = 'docker-compose.piko.yml';

/** The compose project name: `piko-<project>-<env>`, lowered to what docker compose accepts. */
export function composeProjectName(project: string, env: string): string {
  return `piko-${project}-${env}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}
