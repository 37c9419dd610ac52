// What the page knows of every project and environment, and how each event of `/api/events`
// changes it. Pure: the page renders what this holds, and tests feed it events.
import type { DashboardEnvironment, Mark, OperationStatus, OperationSummary } from '../../core/protocol/dashboard.js';
import type { OperationKind } from '../../core/protocol/messages.js';

export type { Mark, OperationStatus, OperationSummary };

/** An operation as `/api/operations` lists them (core/state/rows.ts's OperationRow, the fields the page reads). */
export interface OperationRecord {
  id: string;
  kind: OperationKind;
  environment: string;
  status: OperationStatus;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  stage: string | null;
  exitCode: number | null;
}

export interface Env extends DashboardEnvironment {
  /**
   * Known only from its operation so far (a create that has not made its row yet): shown at
   * once, with what is known, and replaced by the real one when its `environment` event comes.
   */
  placeholder?: boolean;
}

export interface ProjectInfo {
  name: string;
  root: string;
  environments: Env[];
}

export interface Overview {
  projects: ProjectInfo[];
  version?: string;
}

export interface Board {
  /** Sorted by name, as are their environments. */
  projects: ProjectInfo[];
  version: string | undefined;
}

export const emptyBoard = (): Board => ({ projects: [], version: undefined });

/** An operation that ended, as an event told it: for a notification. */
export interface Ended {
  project: string;
  environment: string;
  operation: OperationSummary;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function sorted(projects: readonly ProjectInfo[]): ProjectInfo[] {
  return projects.map((p) => ({ ...p, environments: [...p.environments].sort(byName) })).sort(byName);
}

/** `project`'s environments made new by `change` (the project is added when an event names one the page has not seen). */
function withProject(board: Board, project: string, change: (environments: Env[]) => Env[]): Board {
  const found = board.projects.some((p) => p.name === project);
  const projects = found ? board.projects : [...board.projects, { name: project, root: '', environments: [] }];
  return {
    ...board,
    projects: projects
      .map((p) => (p.name === project ? { ...p, environments: change(p.environments).sort(byName) } : p))
      .sort(byName),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An environment as the page uses it, whatever an older or newer server left out. */
function normalEnv(raw: Env): Env {
  return { ...raw, ports: Array.isArray(raw.ports) ? raw.ports : [], marks: Array.isArray(raw.marks) ? raw.marks : [], lastOperation: raw.lastOperation ?? null };
}

/** The board an overview (`/api/overview`, or a `snapshot` event) describes. */
export function boardOf(overview: Overview): Board {
  const projects = (Array.isArray(overview.projects) ? overview.projects : []).map((p) => ({
    ...p,
    environments: (Array.isArray(p.environments) ? p.environments : []).map(normalEnv),
  }));
  return { projects: sorted(projects), version: overview.version };
}

/**
 * One event of `/api/events` applied: `kind` is its `event:` name, `data` its parsed JSON. An
 * event of a kind the page does not know, or one malformed, leaves the board as it was.
 */
export function applyEvent(board: Board, kind: string, data: unknown): { board: Board; ended?: Ended } {
  if (!isObject(data)) return { board };
  switch (kind) {
    case 'snapshot':
      return { board: boardOf(data as unknown as Overview) };
    case 'environment': {
      const project = data.project;
      const env = data.environment;
      if (typeof project !== 'string' || !isObject(env) || typeof env.name !== 'string') return { board };
      const next = normalEnv(env as unknown as Env);
      return { board: withProject(board, project, (envs) => [...envs.filter((e) => e.name !== next.name), next]) };
    }
    case 'environment-removed': {
      const { project, name } = data;
      if (typeof project !== 'string' || typeof name !== 'string') return { board };
      if (!board.projects.some((p) => p.name === project)) return { board };
      return { board: withProject(board, project, (envs) => envs.filter((e) => e.name !== name)) };
    }
    case 'operation': {
      const { project, environment } = data;
      const operation = data.operation;
      if (typeof project !== 'string' || typeof environment !== 'string' || !isObject(operation) || typeof operation.id !== 'string') return { board };
      const op = operation as unknown as OperationSummary;
      const ended = op.status === 'running' ? undefined : { project, environment, operation: op };
      const next = withProject(board, project, (envs) => {
        const env = envs.find((e) => e.name === environment);
        if (env) {
          // A failed create leaves no environment: its placeholder goes with it.
          if (env.placeholder && op.status === 'failed') return envs.filter((e) => e !== env);
          // An older operation's news (events can cross) does not replace a newer one's.
          if (env.lastOperation && env.lastOperation.id !== op.id && env.lastOperation.startedAt > op.startedAt) return envs;
          return envs.map((e) => (e === env ? { ...e, lastOperation: op } : e));
        }
        if (op.kind !== 'create' || op.status !== 'running') return envs;
        return [...envs, placeholder(project, environment, op)];
      });
      return ended ? { board: next, ended } : { board: next };
    }
    default:
      return { board };
  }
}

function placeholder(project: string, name: string, op: OperationSummary): Env {
  return { id: -1, name, project, mode: 'simple', status: 'creating', branch: '', path: '', dataDir: '', ports: [], lastOperation: op, marks: [], placeholder: true };
}

/** The environment `project`/`name`, if the board has it. */
export function findEnv(board: Board, project: string, name: string): Env | undefined {
  return board.projects.find((p) => p.name === project)?.environments.find((e) => e.name === name);
}

/** How many operations are running, for the tab's title. */
export function runningCount(board: Board): number {
  return board.projects.reduce((n, p) => n + p.environments.filter((e) => e.lastOperation?.status === 'running').length, 0);
}

/** What a person may do to an environment now: the buttons its card shows. */
export function actionsFor(env: Env): { busy: boolean; up: boolean; down: boolean; restart: boolean; destroy: boolean } {
  // Its status alone is not enough: a create whose process died leaves `creating` behind, and
  // only a destroy clears that.
  const busy = env.lastOperation?.status === 'running';
  if (busy || env.placeholder) return { busy: true, up: false, down: false, restart: false, destroy: false };
  // A simple environment has no containers to start or stop.
  const docker = env.mode === 'docker';
  return {
    busy: false,
    up: docker && env.status !== 'running',
    down: docker && env.status === 'running',
    restart: docker && env.status === 'running',
    destroy: true,
  };
}
