// The operations table: one row per operation, written in the same transaction that claims its
// environment, with the process running it (and when that process started, so a reused pid is
// never taken for it), the stage it is in and how it ended.
import type { Database as DB } from 'better-sqlite3';
import type { OperationKind } from '../protocol/messages.js';
import { processStart, sameProcess, signalGroup } from '../system/process.js';
import type { OperationRow } from './rows.js';

export const now = (): string => new Date().toISOString();

const OPERATION_SELECT = `SELECT id, kind, project_id AS projectId, environment, env_id AS envId, status, pid, pid_start AS pidStart,
  started_at AS startedAt, ended_at AS endedAt, error, stage, exit_code AS exitCode FROM operations`;

export class OperationRecords {
  constructor(readonly db: DB) {}

  insertOperation(op: {
    id: string;
    kind: OperationKind;
    projectId: number;
    environment: string;
    envId: number | null;
  }): void {
    this.db
      .prepare(
        `INSERT INTO operations (id, kind, project_id, environment, env_id, status, pid, pid_start, started_at)
         VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)`,
      )
      .run(op.id, op.kind, op.projectId, op.environment, op.envId, process.pid, processStart(process.pid) ?? null, now());
  }

  /** The stage a running operation is in, so `piko status` can say where it got to. */
  setOperationStage(id: string, stage: string): void {
    this.db.prepare('UPDATE operations SET stage = ? WHERE id = ?').run(stage, id);
  }

  /** The process group an operation's current command runs in (undefined when none runs). */
  setOperationChild(id: string, pid: number | undefined): void {
    this.db
      .prepare('UPDATE operations SET child_pid = ?, child_start = ? WHERE id = ?')
      .run(pid ?? null, pid === undefined ? null : (processStart(pid) ?? null), id);
  }

  finishOperation(
    id: string,
    result: { success: boolean; error?: string; stage?: string; exitCode?: number },
  ): void {
    this.db
      .prepare(
        `UPDATE operations SET status = ?, ended_at = ?, error = ?, stage = ?, exit_code = ? WHERE id = ?`,
      )
      .run(
        result.success ? 'succeeded' : 'failed',
        now(),
        result.error ?? null,
        result.stage ?? null,
        result.exitCode ?? null,
        id,
      );
  }

  /**
   * Marks operations whose process died while they ran as failed, and environments they left
   * `creating` or `destroying` as `failed` (`piko destroy` cleans those up). Returns the
   * operations it marked.
   */
  failInterruptedOperations(): OperationRow[] {
    const fail = this.db.transaction((): OperationRow[] => {
      const running = this.db
        .prepare(`SELECT id, pid, pid_start, child_pid AS child, child_start FROM operations WHERE status = 'running'`)
        .all() as { id: string; pid: number; pid_start: string | null; child: number | null; child_start: string | null }[];
      const dead = running.filter(({ pid, pid_start }) => !sameProcess(pid, pid_start));
      for (const { id, pid, child, child_start } of dead) {
        // The command it was running lives on in its own process group: stop it (if that is still it).
        if (child !== null) signalGroup(child, child_start, 'SIGKILL');
        this.finishOperation(id, { success: false, error: `interrupted: the piko process running it (pid ${pid}) stopped` });
        const envId = this.operation(id)!.envId;
        if (envId !== null && !this.heldByLiveOperation(envId)) {
          this.db
            .prepare(`UPDATE environments SET status = 'failed', updated_at = ? WHERE id = ? AND status IN ('creating', 'destroying')`)
            .run(now(), envId);
        }
      }
      return dead.map(({ id }) => this.operation(id)!);
    });
    return fail.immediate();
  }

  operation(id: string): OperationRow | undefined {
    return this.db.prepare(`${OPERATION_SELECT} WHERE id = ?`).get(id) as OperationRow | undefined;
  }

  /** The newest operation on an environment (running or not), if any was recorded. */
  latestOperation(projectId: number, environment: string): OperationRow | undefined {
    return this.db
      .prepare(`${OPERATION_SELECT} WHERE project_id = ? AND environment = ? ORDER BY started_at DESC, rowid DESC LIMIT 1`)
      .get(projectId, environment) as OperationRow | undefined;
  }

  /** The operations recorded on an environment (of that name: a destroyed one's too), newest first. */
  operationsOf(projectId: number, environment: string, limit: number): OperationRow[] {
    return this.db
      .prepare(`${OPERATION_SELECT} WHERE project_id = ? AND environment = ? ORDER BY started_at DESC, rowid DESC LIMIT ?`)
      .all(projectId, environment, limit) as OperationRow[];
  }

  /**
   * What may have changed since a reader saw the operations up to `afterRowid`: those recorded
   * after it, those running, and those named (the ones it saw running), each with its rowid.
   */
  operationChanges(afterRowid: number, ids: readonly string[]): (OperationRow & { rowid: number })[] {
    return this.db
      .prepare(
        `${OPERATION_SELECT.replace('SELECT ', 'SELECT rowid, ')} WHERE rowid > ? OR status = 'running' OR id IN (SELECT value FROM json_each(?)) ORDER BY rowid`,
      )
      .all(afterRowid, JSON.stringify(ids)) as (OperationRow & { rowid: number })[];
  }

  /** The rowid of the operation recorded last (0 when none is). */
  lastOperationRowid(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(rowid), 0) AS rowid FROM operations').get() as { rowid: number }).rowid;
  }

  /** Whether a live process runs an operation on the environment. */
  protected heldByLiveOperation(envId: number): boolean {
    const running = this.db
      .prepare(`SELECT pid, pid_start AS start FROM operations WHERE env_id = ? AND status = 'running'`)
      .all(envId) as { pid: number; start: string | null }[];
    return running.some(({ pid, start }) => sameProcess(pid, start));
  }
}
