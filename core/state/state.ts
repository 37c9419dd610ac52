// Durable state: projects, environments and operations in SQLite. WAL mode and a busy timeout
// let a server and local CLIs use the same file at once; every check-then-write runs inside an
// IMMEDIATE transaction so two processes cannot both win a race (two creates of one name).
import { statSync, type Stats } from 'node:fs';
import { PikoError } from '../errors.js';
import { composeProjectName, sharedComposeProjectName, stateDbPath } from '../paths.js';
import type { EnvironmentStatus, OperationKind } from '../protocol/messages.js';
import { MAX_ENVIRONMENT_ID, toEnvironment, type EnvironmentRow, type EnvironmentUpdate, type RawEnvironment } from './rows.js';
import { now } from './operations.js';
import { guarded } from './failures.js';
import { openPrivate } from './open.js';
import { ProjectRecords } from './projects.js';
import { MIGRATIONS } from './schema.js';

export * from './rows.js';

const ENV_SELECT = `SELECT e.*, p.name AS project FROM environments e JOIN projects p ON p.id = e.project_id`;

/** The refusal of a name an environment of the project already has. */
export function environmentExists(existing: EnvironmentRow): PikoError {
  return new PikoError(
    'PIKO_ERR_ENV_EXISTS',
    `environment ${JSON.stringify(existing.name)} already exists in project ${JSON.stringify(existing.project)} (status ${existing.status}, ${existing.path})`,
    { hint: `Pick another name, or \`piko destroy ${existing.project}/${existing.name}\` first.` },
  );
}

export class State extends ProjectRecords {
  readonly path: string;
  /** The file this database was opened as, to notice when the path names another one. */
  private readonly opened: Stats;

  constructor(home: string) {
    const path = stateDbPath(home);
    super(guarded(openPrivate(home, path), path));
    this.path = path;
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.opened = statSync(path);
  }

  /**
   * Why this database is no longer the file at its path, if it is not: removed or replaced while
   * open, it would go on taking writes no other piko process sees.
   */
  replaced(): string | undefined {
    let now: Stats;
    try {
      now = statSync(this.path);
    } catch {
      return `the state database ${this.path} was removed while this process had it open`;
    }
    if (now.ino === this.opened.ino && now.dev === this.opened.dev) return undefined;
    return `the state database ${this.path} was replaced while this process had it open`;
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    // The common case, an up-to-date file, takes no write lock.
    if ((this.db.pragma('user_version', { simple: true }) as number) >= MIGRATIONS.length) return;
    const migrate = this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (const sql of MIGRATIONS.slice(version)) this.db.exec(sql);
      if (version < MIGRATIONS.length) this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    migrate.immediate();
  }

  // ---- environments --------------------------------------------------------------------------

  /**
   * Claims `name` in the project with status `creating` and the smallest free id (ids are
   * global because they pick host ports), and records `operation` as running on it, in one
   * transaction. Throws PIKO_ERR_ENV_EXISTS when the name is taken.
   */
  reserveEnvironment(
    input: { projectId: number; name: string; branch: string; path: string; dataDir: string; base?: string | null; baseCommit?: string | null },
    operation: string,
  ): EnvironmentRow {
    const reserve = this.db.transaction((): EnvironmentRow => {
      const existing = this.environment(input.projectId, input.name);
      if (existing) {
        throw environmentExists(existing);
      }
      this.assertComposeProjectFree(input.projectId, input.name);
      const id = this.freeBlock();
      const at = now();
      this.db
        .prepare(
          `INSERT INTO environments (id, project_id, name, branch, path, data_dir, status, base, base_commit, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?)`,
        )
        .run(id, input.projectId, input.name, input.branch, input.path, input.dataDir, input.base ?? null, input.baseCommit ?? null, at, at);
      this.insertOperation({ id: operation, kind: 'create', projectId: input.projectId, environment: input.name, envId: id });
      return this.environmentById(id)!;
    });
    return reserve.immediate();
  }

  /**
   * The smallest id no environment and no project's shared services hold: ids pick port blocks
   * (10000 + 100 × id), so the two share one space. Called inside the transaction that takes it.
   */
  private freeBlock(): number {
    const { id } = this.db
      .prepare(
        `WITH taken(id) AS (SELECT id FROM environments UNION SELECT block FROM shared)
         SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM taken WHERE id = 1) THEN 1
           ELSE (SELECT MIN(id) + 1 FROM taken t WHERE NOT EXISTS (SELECT 1 FROM taken u WHERE u.id = t.id + 1)) END AS id`,
      )
      .get() as { id: number };
    if (id > MAX_ENVIRONMENT_ID) {
      throw new PikoError(
        'PIKO_ERR_PORTS_EXHAUSTED',
        `no port block left: id ${id} would publish ports past 65535 (10000 + 100 × id); ${id - 1} environments and shared projects hold the others`,
      );
    }
    return id;
  }

  /** The port block of the project's shared services, taken the first time it is asked for. */
  sharedBlock(projectId: number): number {
    const take = this.db.transaction((): number => {
      const held = this.db.prepare('SELECT block FROM shared WHERE project_id = ?').get(projectId) as { block: number } | undefined;
      if (held) return held.block;
      const block = this.freeBlock();
      this.db.prepare('INSERT INTO shared (project_id, block, created_at) VALUES (?, ?, ?)').run(projectId, block, now());
      return block;
    });
    return take.immediate();
  }

  /**
   * `x/y-z` and `x-y/z` would share the compose project `piko-x-y-z`, and an environment named
   * `shared` would be the shared services of a project that has them: refused in the transaction
   * that reserves the name, so two creates at once cannot both take it.
   */
  private assertComposeProjectFree(projectId: number, name: string): void {
    const project = this.listProjects().find((p) => p.id === projectId)!;
    const mine = composeProjectName(project.name, name);
    const taken = this.listEnvironments().find((e) => composeProjectName(e.project, e.name) === mine);
    if (taken) throw new PikoError('PIKO_ERR_ENV_EXISTS', `environment ${taken.project}/${taken.name} already uses the compose project ${mine}`);
    const withShared = new Set((this.db.prepare('SELECT project_id AS id FROM shared').all() as { id: number }[]).map((row) => row.id));
    const shared = this.listProjects().find((p) => withShared.has(p.id) && sharedComposeProjectName(p.name) === mine);
    if (shared) throw new PikoError('PIKO_ERR_ENV_EXISTS', `${mine} is the compose project of ${shared.name}'s shared services: pick another name`);
  }

  /** A person used the environment just now (attach, exec, run, shell). */
  touchEnvironment(id: number): void {
    this.db.prepare('UPDATE environments SET used_at = ? WHERE id = ?').run(now(), id);
  }

  environment(projectId: number, name: string): EnvironmentRow | undefined {
    const raw = this.db
      .prepare(`${ENV_SELECT} WHERE e.project_id = ? AND e.name = ?`)
      .get(projectId, name) as RawEnvironment | undefined;
    return raw && toEnvironment(raw);
  }

  environmentById(id: number): EnvironmentRow | undefined {
    const raw = this.db.prepare(`${ENV_SELECT} WHERE e.id = ?`).get(id) as RawEnvironment | undefined;
    return raw && toEnvironment(raw);
  }

  listEnvironments(projectId?: number): EnvironmentRow[] {
    const rows = (
      projectId === undefined
        ? this.db.prepare(`${ENV_SELECT} ORDER BY p.name, e.name`).all()
        : this.db.prepare(`${ENV_SELECT} WHERE e.project_id = ? ORDER BY e.name`).all(projectId)
    ) as RawEnvironment[];
    return rows.map(toEnvironment);
  }

  updateEnvironment(id: number, update: EnvironmentUpdate): EnvironmentRow {
    const columns: Record<string, unknown> = {
      status: update.status,
      mode: update.mode,
      compose_project: update.composeProject,
      compose_file: update.composeFile,
      tmux_socket: update.tmuxSocket,
      ports: update.ports && JSON.stringify(update.ports),
      shared: update.shared && JSON.stringify(update.shared),
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    const sql = `UPDATE environments SET ${set.map(([k]) => `${k} = ?`).join(', ')}${set.length ? ', ' : ''}updated_at = ? WHERE id = ?`;
    this.db.prepare(sql).run(...set.map(([, v]) => v), now(), id);
    return this.environmentById(id)!;
  }

  /**
   * Moves an environment to `next` and records `operation` as running on it, only if no other
   * live operation runs on it, so (say) a destroy cannot start while a create or an `up` of it
   * runs. An environment left `creating` or `destroying` by a process that died is not held:
   * claiming it is how it gets cleaned up. Returns the row as it was before.
   */
  claimEnvironment(id: number, next: EnvironmentStatus, operation: { id: string; kind: OperationKind }): EnvironmentRow {
    const claim = this.db.transaction((): EnvironmentRow => {
      const row = this.environmentById(id);
      if (!row) throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `environment ${id} no longer exists`);
      if (this.heldByLiveOperation(id)) {
        throw new PikoError('PIKO_ERR_ENV_BUSY', `environment ${JSON.stringify(row.name)} is busy with another operation (status ${row.status})`);
      }
      this.db
        .prepare('UPDATE environments SET status = ?, updated_at = ? WHERE id = ?')
        .run(next, now(), id);
      this.insertOperation({ id: operation.id, kind: operation.kind, projectId: row.projectId, environment: row.name, envId: id });
      return row;
    });
    return claim.immediate();
  }

  deleteEnvironment(id: number): void {
    this.db.prepare('DELETE FROM environments WHERE id = ?').run(id);
  }
}
