// The dashboard's view of everything (`GET /api/overview`), read from the state database, and
// what differs from the last reading as the events of its stream: the feed (./changes.ts) says
// when to read; this says what a reading found. The marks (merged, gone, idle) are git's answer,
// not the database's: they are kept here as git last gave them and shown with each environment.
import type { DashboardEnvironment, Mark, OperationSummary, Overview } from '../../core/protocol/dashboard.js';
import { environmentInfo, type EnvironmentRow, type OperationRow, type ProjectRow, type State } from '../../core/state/state.js';

export type { DashboardEnvironment, OperationSummary, Overview };

export type FeedEventKind = 'snapshot' | 'environment' | 'environment-removed' | 'operation';
export type FeedEvent = [FeedEventKind, unknown];

/** An environment as last read: whether it changed, and whether anything but its marks did. */
interface SeenEnvironment {
  project: string;
  name: string;
  json: string;
  withoutMarks: string;
}

export function operationSummary(row: OperationRow): OperationSummary {
  const { id, kind, status, startedAt, endedAt, error, stage } = row;
  const durationMs = endedAt === null ? null : Math.max(0, Date.parse(endedAt) - Date.parse(startedAt));
  return { id, kind, status, startedAt, endedAt, error, stage, durationMs };
}

export class OverviewReader {
  /** The overview as of the last reading. */
  current: Overview;
  /** What the diff compares: each project and environment as JSON. */
  private projects = new Map<string, string>();
  private environments = new Map<string, SeenEnvironment>();
  /** Running operations as last seen (id → JSON), and the rowid up to which every operation was seen. */
  private running = new Map<string, string>();
  private lastRowid = 0;
  /** The marks of each environment (`project/env`), as git last said. */
  private marks = new Map<string, Mark[]>();

  constructor(
    private readonly state: State,
    private readonly version: string,
  ) {
    this.current = { projects: [], version };
  }

  /** What is there now is the starting point: what this reading finds is not news. */
  begin(): void {
    this.lastRowid = this.state.lastOperationRowid();
    this.read();
  }

  /**
   * The overview now; what differs from the last reading, as events; and that it is now the last
   * reading. `marksStale`: an environment changed in more than its marks (a branch made, a create
   * ended), so git may say something else of it now.
   */
  read(): { events: FeedEvent[]; marksStale: boolean } {
    const projectRows = this.state.listProjects();
    const model = this.readOverview(projectRows);
    const operations = this.operationEvents(new Map(projectRows.map((p) => [p.id, p.name])));
    const projects = new Map(model.projects.map((p) => [p.name, JSON.stringify({ name: p.name, root: p.root })]));
    const projectsChanged = projects.size !== this.projects.size || [...projects].some(([name, json]) => this.projects.get(name) !== json);
    const { environments, changed, marksStale } = this.environmentEvents(model);
    const removed = this.removedEvents(environments);
    this.current = model;
    this.projects = projects;
    this.environments = environments;
    // A project registered or forgotten has no event of its own: the page starts again from a snapshot.
    if (projectsChanged) return { events: [...operations, ['snapshot', model]], marksStale };
    return { events: [...changed, ...removed, ...operations], marksStale };
  }

  /** Takes git's latest marks; true when they differ from those shown. */
  setMarks(marks: Map<string, Mark[]>): boolean {
    const changed = [...marks].some(([key, now]) => JSON.stringify(now) !== JSON.stringify(this.marks.get(key) ?? []));
    this.marks = marks;
    return changed;
  }

  private readOverview(projects: ProjectRow[]): Overview {
    const rows = this.state.listEnvironments();
    return {
      version: this.version,
      projects: projects.map((p) => ({ name: p.name, root: p.root, environments: rows.filter((row) => row.projectId === p.id).map((row) => this.dashboardEnvironment(row)) })),
    };
  }

  private dashboardEnvironment(row: EnvironmentRow): DashboardEnvironment {
    const latest = this.state.latestOperation(row.projectId, row.name);
    return {
      ...environmentInfo(row),
      lastOperation: latest ? operationSummary(latest) : null,
      marks: this.marks.get(`${row.project}/${row.name}`) ?? [],
    };
  }

  /** The operations that started or moved since the last reading (`names`: project id → name). */
  private operationEvents(names: Map<number, string>): FeedEvent[] {
    const events: FeedEvent[] = [];
    const seen = new Set<string>();
    for (const row of this.state.operationChanges(this.lastRowid, [...this.running.keys()])) {
      this.lastRowid = Math.max(this.lastRowid, row.rowid);
      seen.add(row.id);
      const summary = operationSummary(row);
      const json = JSON.stringify(summary);
      if (this.running.get(row.id) === json) continue;
      if (row.status === 'running') this.running.set(row.id, json);
      else this.running.delete(row.id);
      events.push(['operation', { project: names.get(row.projectId) ?? null, environment: row.environment, operation: summary }]);
    }
    // Gone without ending (its project was forgotten): nothing more will come of it.
    for (const id of this.running.keys()) if (!seen.has(id)) this.running.delete(id);
    return events;
  }

  /** The environments new or changed since the last reading. */
  private environmentEvents(model: Overview): { environments: Map<string, SeenEnvironment>; changed: FeedEvent[]; marksStale: boolean } {
    const environments = new Map<string, SeenEnvironment>();
    const changed: FeedEvent[] = [];
    let marksStale = false;
    for (const project of model.projects) {
      for (const environment of project.environments) {
        const key = `${project.name}/${environment.name}`;
        const { marks, ...rest } = environment;
        const now = { project: project.name, name: environment.name, json: JSON.stringify(environment), withoutMarks: JSON.stringify(rest) };
        environments.set(key, now);
        const before = this.environments.get(key);
        if (before?.json === now.json) continue;
        if (before?.withoutMarks !== now.withoutMarks) marksStale = true;
        changed.push(['environment', { project: project.name, environment }]);
      }
    }
    return { environments, changed, marksStale };
  }

  /** The environments gone since the last reading; their marks are forgotten. */
  private removedEvents(environments: Map<string, SeenEnvironment>): FeedEvent[] {
    const removed: FeedEvent[] = [];
    for (const [key, before] of this.environments) {
      if (environments.has(key)) continue;
      removed.push(['environment-removed', { project: before.project, name: before.name }]);
      this.marks.delete(key);
    }
    return removed;
  }
}
