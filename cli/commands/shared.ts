// `piko shared status|up|down|logs|reseed`: the project's shared services, run here (not through
// the server) under the same lock the `shared` stage of a create takes, so the two never cross.
import { execa } from 'execa';
import { trustedConfig } from '../../core/config/trust.js';
import { PikoError } from '../../core/errors.js';
import { publishedPorts } from '../../core/environment/vars.js';
import { resolveProject } from '../../core/state/resolve.js';
import type { ProjectRow, State } from '../../core/state/state.js';
import { withLock } from '../../core/system/lock.js';
import { requireCompose, requireDaemon } from '../../stages/docker/compose-cli.js';
import { joinNetworks, serviceContainers } from '../../stages/docker/networks.js';
import { exists, type Shell } from '../../stages/shared/databases.js';
import { hasShared } from '../../stages/shared/model.js';
import { databaseServerOf, planShared, sharedCompose, startShared, type SharedPlan } from '../../stages/shared/project.js';
import { ensureTemplates } from '../../stages/shared/templates.js';
import { openState } from '../open-state.js';
import { print } from '../terminal/print.js';

export interface SharedOptions {
  project?: string;
  force?: boolean;
  volumes?: boolean;
  follow?: boolean;
  json?: boolean;
  yes?: boolean;
}

/** Commands with their output on this terminal, under `[shared]` for piko's own lines. */
const terminalShell: Shell = {
  run: async (file, args, options = {}) => {
    const result = await execa(file, args, { cwd: options.cwd, env: options.env, stdio: 'inherit', reject: false });
    if (result.exitCode !== 0) throw new PikoError('PIKO_ERR_STAGE_FAILED', `shared failed: \`${[file, ...args].join(' ')}\` exited with code ${result.exitCode ?? result.signal}`);
  },
  info: (text) => process.stderr.write(`[shared] ${text}\n`),
  warn: (text) => process.stderr.write(`[shared] warning: ${text}\n`),
};

async function planFor(home: string, state: State, project: ProjectRow, approve: boolean): Promise<SharedPlan> {
  const { config, file } = await trustedConfig(home, project, approve ? { approve: true } : {});
  if (!hasShared(config)) throw new PikoError('PIKO_ERR_USAGE', `${file ?? 'the config'} of ${project.name} shares no service (add shared: to it)`);
  return planShared({ project, config, block: state.sharedBlock(project.id) });
}

export async function shared(action: string, service: string | undefined, options: SharedOptions): Promise<void> {
  const { home, state } = openState();
  try {
    const project = await resolveProject(state, options.project, process.cwd());
    const plan = await planFor(home, state, project, options.yes === true);
    // Read again under the lock where it decides anything: a create may reserve one meanwhile.
    const users = () => state.listEnvironments(project.id).filter((e) => e.shared?.length);
    const locked = (work: () => Promise<void>) =>
      withLock(home, `shared-${project.name}`, work, { onWait: () => terminalShell.info(`waiting for another piko operation on ${plan.composeProject}`) });
    await requireDaemon();
    const tool = await requireCompose();
    switch (action) {
      case 'status':
        return await showStatus(plan, users().map((e) => e.name), options.json === true);
      case 'up':
        return await locked(async () => {
          await startShared(plan, tool, terminalShell);
          await ensureTemplates(plan, terminalShell, 'the config');
          // Containers made anew have left the environments' networks: each running one is joined again.
          for (const env of users().filter((e) => e.status === 'running' && e.composeProject)) {
            await joinNetworks(plan.composeProject, env.shared!.map((u) => u.service), env.composeProject!);
          }
          terminalShell.info(`${plan.composeProject} is up`);
        });
      case 'down':
        return await locked(async () => {
          const using = users();
          if (using.length > 0 && (options.volumes || !options.force)) {
            const names = using.map((e) => e.name).join(', ');
            throw new PikoError(
              'PIKO_ERR_PROJECT_IN_USE',
              `${plan.composeProject} is used by ${names}`,
              { hint: options.volumes ? `Their databases are in those volumes: destroy ${names} first.` : 'Destroy them first, or pass --force to stop the shared services anyway (their data is kept).' },
            );
          }
          await terminalShell.run(...sharedCompose(plan, tool, ['down', ...(options.volumes ? ['--volumes'] : [])]), { cwd: plan.dir });
          terminalShell.info(options.volumes ? `${plan.composeProject} is down, its volumes removed` : `${plan.composeProject} is down; its data is kept (down --volumes removes it)`);
        });
      case 'logs':
        return await terminalShell.run(...sharedCompose(plan, tool, ['logs', ...(options.follow ? ['--follow'] : []), ...(service ? [service] : [])]), { cwd: plan.dir });
      case 'reseed':
        return await locked(async () => {
          await startShared(plan, tool, terminalShell);
          await ensureTemplates(plan, terminalShell, 'the config', true);
          terminalShell.info('every template was made again; environments made from now on start from it');
        });
      default:
        throw new PikoError('PIKO_ERR_USAGE', `no such action: shared ${action} (status, up, down, logs, reseed)`);
    }
  } finally {
    state.close();
  }
}

async function showStatus(plan: SharedPlan, users: string[], json: boolean): Promise<void> {
  const containers = await serviceContainers(plan.composeProject);
  const rows = await Promise.all(
    plan.services.map(async ({ service, kind, config }) => {
      const container = containers.find((c) => c.service === service);
      const server = container && databaseServerOf(plan, service, container.id);
      const template = config.template && server ? await exists(server, config.template).catch(() => false) : undefined;
      return {
        service,
        running: container !== undefined,
        database: kind,
        ports: plan.bindings.filter((b) => b.service === service).map((b) => `${b.containerPort}/${b.protocol} → localhost:${publishedPorts(b)}`),
        ...(config.template ? { template: config.template, templateMade: template === true } : {}),
      };
    }),
  );
  if (json) {
    print(`${JSON.stringify({ composeProject: plan.composeProject, file: plan.file, services: rows, usedBy: users }, null, 2)}\n`);
    return;
  }
  const lines = rows.map((r) => {
    const what = r.database === 'none' ? 'shared as it is' : `${r.database}, a database per environment${r.template ? `, template ${r.template} (${r.templateMade ? 'made' : 'not made yet'})` : ''}`;
    return `  ${r.service}  ${r.running ? 'running' : 'not running'}  ${r.ports.join(', ')}  ${what}`;
  });
  print(`${plan.composeProject} (${plan.file})\n${lines.join('\n')}\n  used by: ${users.join(', ') || 'no environment'}\n`);
}
