// Turning a request into an operation: everything that can be checked is checked before
// anything runs, so bad input changes nothing; then the environment row is claimed (atomically)
// and the engine takes over, with a StateRecorder that writes what happens back to state.
import { newOperationId } from '../engine/operation.js';
import { PikoError } from '../errors.js';
import type { LifecycleRequest, OperationRequest } from '../protocol/requests.js';
import { prepareCreate } from './create.js';
import { prepareDestroy } from './destroy.js';
import { projectEngine, recordedOperation, requestEnvironment, type Prepared, type Services } from './services.js';

export type { Prepared, Services } from './services.js';

/** `up`, `down`, `restart`: the docker stage alone, on an environment that has containers. */
async function prepareLifecycle(services: Services, request: LifecycleRequest): Promise<Prepared> {
  const { state } = services;
  const project = state.requestProject(request.project);
  const row = requestEnvironment(state, project, request.environment);
  if (row.mode !== 'docker') {
    throw new PikoError('PIKO_ERR_USAGE', `${project.name}/${row.name} is a simple environment: it has no containers to ${request.action}`);
  }
  const { engine, config } = await projectEngine(services, project, request);
  const id = newOperationId();
  const environment = state.claimEnvironment(row.id, row.status, { id, kind: request.action });
  return recordedOperation(services, engine, { id, kind: request.action, request, project, environment, config }, (op) =>
    state.updateEnvironment(op.environment.id, { status: op.environment.status }),
  );
}

/**
 * Checks a request and claims what it works on. Throws a PikoError (and changes nothing) when
 * the request cannot run.
 */
export async function prepareOperation(services: Services, request: OperationRequest): Promise<Prepared> {
  switch (request.action) {
    case 'create':
      return prepareCreate(services, request);
    case 'destroy':
      return prepareDestroy(services, request);
    default:
      return prepareLifecycle(services, request);
  }
}
