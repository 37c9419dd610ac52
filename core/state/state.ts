// Durable state: projects, environments and operations in SQLite. WAL mode and a busy timeout
// let a server and local CLIs use the same file at once; every check-then-write runs inside an
// IMMEDIATE transaction so two processes cannot both win a race (two creates of one name).
import { chmodSync, closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { PikoError } from '../errors.js';
import { stateDbPath } from '../paths.js';
import type { EnvironmentStatus, OperationKind } from '../protocol/messages.js';
import { MAX_ENVIRONMENT_ID, toEnvironment, type EnvironmentRow, type EnvironmentUpdate, type ProjectRow, type RawEnvironment } from './rows.js';
import { now, OperationRecords } from './operations.js';
import { guarded, stateError } from './failures.js';
import { MIGRATIONS } from './schema.js';

export * from './rows.js';

const ENV_SELECT = `SELECT e.*, p.name AS project FROM environments e JOIN projects p ON p.id = e.project_id`;

/** better-sqlite3's addon, named: otherwise it searches the file system for it each time. */
const nativeBinding = ((): string | undefined => {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
})();

/**
 * PIKO_HOME and the database are private to their user (they hold every project's paths,
 * branches and errors): both are made so, and a database left readable by others is tightened.
 */
function openPrivate(home: string, path: string): Database.Database {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PikoError('PIKO_ERR_STATE', `PIKO_HOME ${home} cannot be made (${(err as Error).message}): point PIKO_HOME at a folder you may write to`, { cause: err });
  }
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch {
      // Missing, or not ours to change: opening it says what matters.
    }
  }
  try {
    return new Database(path, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw stateError(path, err);
  }
}

/** The refusal of a name an environment of the project already has. */
export function environmentExists(existing: EnvironmentRow): PikoError {
  return new PikoError(
    'PIKO_ERR_ENV_EXISTS',
    `environment ${JSON.stringify(existing.name)} already exists in project ${JSON.stringify(existing.project)} (status ${existing.status}, ${existing.path})`,
    { hint: `Pick another name, or \`piko destroy ${existing.project}/${existing.name}\` first.` },
  );
}

export class State extends OperationRecords {
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

  // ---- projects ------------------------------------------------------------------------------

  addProject(name: string, root: string): ProjectRow {
    const add = this.db.transaction((): ProjectRow => {
      const existing = this.projectByRoot(root);
      if (existing) return existing;
      if (this.projectByName(name)) {
        throw new PikoError(
          'PIKO_ERR_PROJECT_EXISTS',
          `another repository is already registered as project ${JSON.stringify(name)} (${this.projectByName(name)!.root})`,
        );
      }
      this.db
        .prepare('INSERT INTO projects (name, root, created_at) VALUES (?, ?, ?)')
        .run(name, root, now());
      return this.projectByRoot(root)!;
    });
    return add.immediate();
  }

  /** Forgets a project and its operation records (their log files stay). Its environments must be gone. */
  removeProject(id: number): void {
    const remove = this.db.transaction(() => {
      const left = this.listEnvironments(id);
      if (left.length > 0) {
        throw new PikoError('PIKO_ERR_PROJECT_IN_USE', `the project still has environments: ${left.map((e) => e.name).join(', ')}`);
      }
      this.db.prepare('DELETE FROM operations WHERE project_id = ?').run(id);
      this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
    });
    remove.immediate();
  }

  /** The project a request names, or the only one there is; otherwise an error that lists them. */
  requestProject(name: string | undefined): ProjectRow {
    const projects = this.listProjects();
    if (name !== undefined) {
      const project = this.projectByName(name);
      if (project) return project;
      const known = projects.length ? ` (projects: ${projects.map((p) => p.name).join(', ')})` : '';
      throw new PikoError('PIKO_ERR_PROJECT_UNKNOWN', `no project named ${JSON.stringify(name)} is registered${known}`);
    }
    if (projects.length === 1) return projects[0]!;
    throw new PikoError(
      'PIKO_ERR_PROJECT_UNKNOWN',
      projects.length === 0 ? 'no project is registered yet' : `say which project (projects: ${projects.map((p) => p.name).join(', ')})`,
    );
  }

  projectByName(name: string): ProjectRow | undefined {
    return this.projectWhere('name = ?', name);
  }

  projectByRoot(root: string): ProjectRow | undefined {
    return this.projectWhere('root = ?', root);
  }

  listProjects(): ProjectRow[] {
    return this.db
      .prepare('SELECT id, name, root, created_at AS createdAt FROM projects ORDER BY name')
      .all() as ProjectRow[];
  }

  private projectWhere(where: string, value: unknown): ProjectRow | undefined {
    return this.db
      .prepare(`SELECT id, name, root, created_at AS createdAt FROM projects WHERE ${where}`)
      .get(value) as ProjectRow | undefined;
  }

  // ---- environments --------------------------------------------------------------------------

  /**
   * Claims `name` in the project with status `creating` and the smallest free id (ids are
   * global because they pick host ports), and records `operation` as running on it, in one
   * transaction. Throws PIKO_ERR_ENV_EXISTS when the name is taken.
   */
  reserveEnvironment(
    input: { projectId: number; name: string; branch: string; path: string; dataDir: string },
    operation: string,
  ): EnvironmentRow {
    const reserve = this.db.transaction((): EnvironmentRow => {
      const existing = this.environment(input.projectId, input.name);
      if (existing) {
        throw environmentExists(existing);
      }
      const { id } = this.db
        .prepare(
          `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM environments WHERE id = 1) THEN 1
             ELSE (SELECT MIN(id) + 1 FROM environments e
                   WHERE NOT EXISTS (SELECT 1 FROM environments f WHERE f.id = e.id + 1)) END AS id`,
        )
        .get() as { id: number };
      if (id > MAX_ENVIRONMENT_ID) {
        throw new PikoError(
          'PIKO_ERR_PORTS_EXHAUSTED',
          `no environment id left: id ${id} would publish ports past 65535 (10000 + 100 × id); ${id - 1} environments exist`,
        );
      }
      const at = now();
      this.db
        .prepare(
          `INSERT INTO environments (id, project_id, name, branch, path, data_dir, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'creating', ?, ?)`,
        )
        .run(id, input.projectId, input.name, input.branch, input.path, input.dataDir, at, at);
      this.insertOperation({ id: operation, kind: 'create', projectId: input.projectId, environment: input.name, envId: id });
      return this.environmentById(id)!;
    });
    return reserve.immediate();
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
