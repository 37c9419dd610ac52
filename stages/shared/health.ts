// Waiting for the shared services: each healthy (its healthcheck passes, or it runs when it has
// none) and each database server taking connections; one that will not come up is an error with
// its last lines of log and what to do.
import { PikoError } from '../../core/errors.js';
import { query } from '../../core/system/query.js';
import { dockerLines } from '../docker/compose-cli.js';
import { serviceContainers } from '../docker/networks.js';
import { ready, type DatabaseServer, type Shell } from './databases.js';

/** What waiting needs of the shared project: its compose project, its services, and the database server each runs. */
export interface Awaited {
  composeProject: string;
  services: readonly { service: string }[];
  serverOf(service: string, container: string): DatabaseServer | undefined;
}

/** How long the shared services get to become healthy (and a database server to take connections). */
const HEALTHY_TIMEOUT_MS = 180_000;
const POLL_MS = 250;

export interface ContainerState {
  id: string;
  service: string;
  status: string;
  /** `healthy`, `starting`, `unhealthy`, or '' without a healthcheck. */
  health: string;
}

export async function containerStates(composeProject: string): Promise<ContainerState[]> {
  const containers = await serviceContainers(composeProject);
  if (containers.length === 0) return [];
  const lines = await dockerLines(['inspect', '--format', '{{.State.Status}}\t{{if .State.Health}}{{.State.Health.Status}}{{end}}', ...containers.map((c) => c.id)]);
  return lines.map((line, i) => {
    const [status = '', health = ''] = line.split('\t');
    return { ...containers[i]!, status, health };
  });
}

export async function waitHealthy(plan: Awaited, shell: Shell, signal?: AbortSignal, first?: ContainerState[]): Promise<void> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  const waiting = new Set(plan.services.map((s) => s.service));
  let said = false;
  for (;;) {
    const states = first ?? (await containerStates(plan.composeProject));
    first = undefined;
    for (const service of [...waiting]) {
      const mine = states.filter((s) => s.service === service);
      const bad = mine.find((s) => s.status === 'exited' || s.status === 'dead' || s.health === 'unhealthy');
      if (bad) throw await notHealthy(plan, service, bad.id, bad.health === 'unhealthy' ? 'its healthcheck fails' : `its container ${bad.status}`);
      if (mine.length === 0 || !mine.every((s) => s.status === 'running' && (s.health === '' || s.health === 'healthy'))) continue;
      // A healthcheck that passes is the service's own word; without one, a server is asked.
      const server = mine[0]!.health === '' ? plan.serverOf(service, mine[0]!.id) : undefined;
      if (server && !(await ready(server))) continue;
      waiting.delete(service);
    }
    if (waiting.size === 0) return;
    signal?.throwIfAborted();
    if (Date.now() > deadline) {
      const service = [...waiting][0]!;
      throw await notHealthy(plan, service, states.find((s) => s.service === service)?.id, `not healthy after ${HEALTHY_TIMEOUT_MS / 1000} s`);
    }
    if (!said) shell.info(`waiting for ${[...waiting].join(', ')} to be healthy`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A shared service that will not come up: what it said last, and what to do. */
async function notHealthy(plan: Awaited, service: string, container: string | undefined, why: string): Promise<PikoError> {
  const logs = container ? await query('docker', ['logs', '--tail', '15', container], { timeout: 30_000 }) : undefined;
  const tail = logs ? `${logs.stdout}${logs.stderr}`.trim().split('\n').slice(-15).map((line) => `    ${line}`).join('\n') : '';
  return new PikoError(
    'PIKO_ERR_STAGE_FAILED',
    `shared failed: ${service} of ${plan.composeProject}: ${why}${tail ? `; its last lines:\n${tail}` : ''}`,
    { stage: 'shared', hint: `Fix the service in the compose file, then run the command again (\`piko shared logs ${service}\` shows its whole log).` },
  );
}
