// `piko exec <name> <service> [cmd...]`, `piko shell <name> <service>` and `piko run <name>`:
// commands in an environment, with this terminal's stdin and TTY, returning their exit code.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_SHELL, type LoadedConfig } from '../../core/config/config.js';
import { trustedConfig } from '../../core/config/trust.js';
import { PikoError } from '../../core/errors.js';
import { pikoHome } from '../../core/paths.js';
import { environmentInfo, type EnvironmentRow, type ProjectRow } from '../../core/state/state.js';
import { environmentVariables } from '../../core/environment/vars.js';
import { composeCommand, requireCompose } from '../../stages/docker/compose-cli.js';
import { openState } from '../open-state.js';
import { resolveEnvironment } from '../../core/state/resolve.js';
import { ExitError } from '../exit.js';
import { errorText } from '../terminal/say.js';

/** The environment a command means, marked as used now (prune's idle time counts from it). */
async function target(name: string | undefined): Promise<{ project: ProjectRow; environment: EnvironmentRow }> {
  const { state } = openState();
  try {
    const found = await resolveEnvironment(state, name, process.cwd());
    state.touchEnvironment(found.environment.id);
    return found;
  } finally {
    state.close();
  }
}

/** The project's config once what it runs is approved; at a terminal, a change is shown and asked about. */
async function approvedConfig(project: ProjectRow): Promise<LoadedConfig> {
  try {
    return await trustedConfig(pikoHome(), project);
  } catch (err) {
    const { askToApprove, canAsk } = await import('../terminal/ask.js');
    if (!(err instanceof PikoError && err.approval && canAsk())) throw err;
    process.stderr.write(errorText(err.message));
    if (!(await askToApprove())) throw new ExitError(1);
    return trustedConfig(pikoHome(), project, { approve: err.approval });
  }
}

/** Runs a command attached to this terminal; leaves with its exit code. */
async function interactive(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<void> {
  const result = await execa(file, args, { cwd, env, stdio: 'inherit', reject: false });
  if (result.exitCode === undefined) {
    if (result.signal === undefined) throw new PikoError('PIKO_ERR_DOCKER_UNAVAILABLE', `${file} could not start: ${result.shortMessage}`);
    throw new ExitError(128 + (constants.signals[result.signal as NodeJS.Signals] ?? 1));
  }
  if (result.exitCode !== 0) throw new ExitError(result.exitCode);
}

/** `docker compose exec` (or `docker-compose exec`) in an environment's compose project. */
export async function exec(name: string, service: string, command: string[]): Promise<void> {
  const { project, environment } = await target(name);
  if (environment.mode !== 'docker' || !environment.composeFile || !environment.composeProject) {
    throw new PikoError('PIKO_ERR_USAGE', `${project.name}/${environment.name} is a simple environment: it has no containers`);
  }
  const shell = (await approvedConfig(project)).config.shells?.[service] ?? DEFAULT_SHELL;
  const run = command.length > 0 ? command : shell.split(/\s+/).filter(Boolean);
  const file = existsSync(environment.composeFile) ? basename(environment.composeFile) : undefined;
  // Without a terminal on stdin (a pipe, a script) docker must not try to allocate one.
  const tty = process.stdin.isTTY ? [] : ['-T'];
  await interactive(
    ...composeCommand(await requireCompose(), environment.composeProject, file, ['exec', ...tty, service, ...run]),
    existsSync(dirname(environment.composeFile)) ? dirname(environment.composeFile) : project.root,
    environmentVariables(project.root, environmentInfo(environment)),
  );
}

/** The config's `scripts.run` in the worktree, with every PIKO_* variable. */
export async function run(name: string): Promise<void> {
  const { project, environment } = await target(name);
  const { config, file } = await approvedConfig(project);
  const script = config.scripts?.run;
  if (!script) {
    throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${file ? basename(file) : 'the project'} has no scripts.run to run in ${environment.name}`);
  }
  await interactive('sh', ['-c', script], environment.path, environmentVariables(project.root, environmentInfo(environment)));
}
