// The rows of the state database as the rest of piko sees them, and the part of an
// environment the wire protocol carries. No SQLite here: the engine and its tests use these
// types without a database.
import type { OperationStatus } from '../protocol/dashboard.js';
import type {
  EnvironmentInfo,
  EnvironmentMode,
  EnvironmentStatus,
  OperationKind,
  PortBinding,
  SharedUse,
} from '../protocol/messages.js';

/** Each id owns the host ports 10000 + 100 × id … + 99; past this id they would pass 65535. */
export const MAX_ENVIRONMENT_ID = Math.floor((65535 - 10000 - 99) / 100);

export interface ProjectRow {
  id: number;
  name: string;
  root: string;
  createdAt: string;
}

export interface EnvironmentRow extends EnvironmentInfo {
  projectId: number;
  composeProject: string | null;
  composeFile: string | null;
  /** The branch (or commit) it was made from, and the commit that was then: what prune asks a merge about. */
  base?: string | null;
  baseCommit?: string | null;
  /** When a person last used it outside an operation (attach, exec, run, shell). */
  usedAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

export type { OperationStatus };

export interface OperationRow {
  id: string;
  kind: OperationKind;
  projectId: number;
  environment: string;
  envId: number | null;
  status: OperationStatus;
  pid: number;
  /** When that process started (see core/system/process.ts), or null where that is not known. */
  pidStart: string | null;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  stage: string | null;
  exitCode: number | null;
}

export interface EnvironmentUpdate {
  status?: EnvironmentStatus;
  mode?: EnvironmentMode;
  composeProject?: string | null;
  composeFile?: string | null;
  tmuxSocket?: string;
  ports?: PortBinding[];
  shared?: SharedUse[];
}

/** The part of a row the wire protocol carries. */
export function environmentInfo(row: EnvironmentRow): EnvironmentInfo {
  const { id, name, project, mode, status, branch, path, dataDir, ports, tmux, tmuxSocket, shared } = row;
  return {
    id, name, project, mode, status, branch, path, dataDir, ports,
    ...(tmux ? { tmux } : {}),
    ...(tmux && tmuxSocket ? { tmuxSocket } : {}),
    ...(shared?.length ? { shared } : {}),
  };
}

/** An environments row as SQLite returns it. */
export interface RawEnvironment {
  id: number;
  project_id: number;
  project: string;
  name: string;
  branch: string;
  path: string;
  data_dir: string;
  mode: EnvironmentMode;
  status: EnvironmentStatus;
  compose_project: string | null;
  compose_file: string | null;
  tmux_socket: string | null;
  ports: string;
  shared: string;
  base: string | null;
  base_commit: string | null;
  used_at: string | null;
  created_at: string;
  updated_at: string;
}

export function toEnvironment(raw: RawEnvironment): EnvironmentRow {
  return {
    id: raw.id,
    name: raw.name,
    project: raw.project,
    projectId: raw.project_id,
    mode: raw.mode,
    status: raw.status,
    branch: raw.branch,
    path: raw.path,
    dataDir: raw.data_dir,
    ports: JSON.parse(raw.ports) as PortBinding[],
    composeProject: raw.compose_project,
    composeFile: raw.compose_file,
    base: raw.base,
    baseCommit: raw.base_commit,
    usedAt: raw.used_at,
    ...(raw.tmux_socket ? { tmuxSocket: raw.tmux_socket } : {}),
    ...(raw.shared && raw.shared !== '[]' ? { shared: JSON.parse(raw.shared) as SharedUse[] } : {}),
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  };
}
