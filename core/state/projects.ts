// The projects table: a repository registered under a name, which its environments and
// operations belong to.
import { PikoError } from '../errors.js';
import { now, OperationRecords } from './operations.js';
import type { EnvironmentRow, ProjectRow } from './rows.js';

export abstract class ProjectRecords extends OperationRecords {
  /** Every environment of the project (of every project without one). */
  abstract listEnvironments(projectId?: number): EnvironmentRow[];

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
      this.db.prepare('DELETE FROM shared WHERE project_id = ?').run(id);
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
}
