// What the dashboard's endpoints say (`/api/overview`, `/api/events`, `/api/operations`): one
// home for the server that makes it and the page that reads it. Types only, so the page's bundle
// takes nothing else from here.
import type { EnvironmentInfo, OperationKind } from './messages.js';

/** What `piko list` says of an environment that may be done (see core/prune/marks.ts). */
export type Mark = 'merged' | 'gone' | 'idle';

export type OperationStatus = 'running' | 'succeeded' | 'failed';

/** An operation as `/api/overview` and `/api/events` describe it. */
export interface OperationSummary {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  stage: string | null;
  /** From start to end; null while it runs. */
  durationMs: number | null;
}

/** An environment as the dashboard shows it: what the wire says, its last operation and its marks. */
export interface DashboardEnvironment extends EnvironmentInfo {
  lastOperation: OperationSummary | null;
  marks: Mark[];
}

export interface Overview {
  projects: { name: string; root: string; environments: DashboardEnvironment[] }[];
  version: string;
}
