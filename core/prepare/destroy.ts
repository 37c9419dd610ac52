// A destroy request: refused while the worktree has changes a person made (unless they are to be
// discarded, or forced), then
// the environment is claimed as `destroying`; its row goes once every stage has run.
import { existsSync } from 'node:fs';
import { newOperationId } from '../engine/operation.js';
import { PikoError } from '../errors.js';
import { PIKO_COMPOSE_FILE } from '../paths.js';
import type { DestroyRequest } from '../protocol/requests.js';
import { changesMade } from '../system/git.js';
import { projectEngine, recordedOperation, requestEnvironment, type Prepared, type Services } from './services.js';

/**
 * What would be lost by removing the worktree: a person's changes. Ignored files never count
 * (git does not list them), nor the file piko wrote itself, nor untracked files the create made
 * (`prepare` copying `.env`) as long as nobody changed them.
 */
export async function uncommittedChanges(path: string): Promise<string[]> {
  return (await changesMade(path)).filter((line) => !line.endsWith(` ${PIKO_COMPOSE_FILE}`));
}

/** Changes a refused destroy's answer lists at most (a worktree may have thousands). */
const LISTED_CHANGES = 200;

export async function prepareDestroy(services: Services, request: DestroyRequest): Promise<Prepared> {
  const { state } = services;
  const project = state.requestProject(request.project);
  const row = requestEnvironment(state, project, request.environment);
  const { engine, config } = await projectEngine(services, project, request);
  if (!request.force && !request.discardChanges && existsSync(row.path)) {
    const changes = await uncommittedChanges(row.path);
    if (changes.length > 0) {
      const shown = changes.slice(0, 5).join(', ') + (changes.length > 5 ? ` and ${changes.length - 5} more` : '');
      throw new PikoError('PIKO_ERR_WORKTREE_DIRTY', `worktree ${row.path} has uncommitted changes: ${shown}`, {
        dirty: { path: row.path, changes: changes.slice(0, LISTED_CHANGES), more: Math.max(0, changes.length - LISTED_CHANGES) },
        hint: `Commit or stash them, or \`piko destroy ${project.name}/${row.name} --discard-changes\` throws them away (the branch stays; with --delete-branch it goes too, and --force does both).`,
      });
    }
  }
  const id = newOperationId();
  const environment = state.claimEnvironment(row.id, 'destroying', { id, kind: 'destroy' });
  return recordedOperation(services, engine, { id, kind: 'destroy', request, project, environment, config }, (op, failure) => {
    if (failure) {
      // Nothing was removed past the failing stage: the environment stays as it now is.
      state.updateEnvironment(op.environment.id, { status: op.environment.status });
      return;
    }
    state.deleteEnvironment(op.environment.id);
    op.environment.status = 'destroyed';
  });
}
