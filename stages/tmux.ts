// The tmux stage (last, optional): a session `piko/<project>/<env>` with a `shell` window in the
// worktree (every PIKO_* variable set), a window per compose service (`docker compose exec
// <service> sh`, or the command `shells.<service>` names) and a `logs` window. Skipped with a
// note when tmux is not installed; destroy kills the session.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Engine, PikoPlugin, StageContext, StageDefinition } from '../core/engine/engine.js';
import { withoutPikoVariables } from '../core/engine/stage-context.js';
import { STAGE_ORDER } from '../core/engine/stage-order.js';
import { DEFAULT_SHELL } from '../core/config/config.js';
import { PikoError } from '../core/errors.js';
import { tmux, tmuxArgs, tmuxSession, type TmuxResult } from '../core/system/tmux.js';
import { composeCommand } from './docker/compose-cli.js';
import { composeToolFor } from './docker/run.js';
import { readComposeFile } from './docker/load.js';

const PLUGIN_NAME = 'TmuxStagePlugin';

const sessionOf = (ctx: StageContext): string => tmuxSession(ctx.operation.project.name, ctx.operation.environment.name);

const workingDirectory = (ctx: StageContext): string => (existsSync(ctx.operation.environment.path) ? ctx.operation.environment.path : homedir());

// Bare: a tmux server this starts keeps the environment it started with, and serves every later
// session too; the variables go to piko's own session only (`-e`). On the server the session was
// made on, once that is known.

/** tmux, its output shown under the stage. */
const shownTmux = (ctx: StageContext, ...args: string[]) =>
  ctx.exec('tmux', tmuxArgs(ctx.operation.environment.tmuxSocket, ...args), { cwd: workingDirectory(ctx), bare: true });

/** tmux, its output kept to be read (new-session's socket and refusal, kill-session's outcome), not shown. */
function quietTmux(ctx: StageContext, ...args: string[]): Promise<TmuxResult> {
  return tmux(tmuxArgs(ctx.operation.environment.tmuxSocket, ...args), { cwd: workingDirectory(ctx), env: withoutPikoVariables(process.env) });
}

/** A window's command that, when it ends (a container not up yet), stays to say so instead of closing the window. */
const staying = (what: string, command: string[]): string[] => [
  'sh',
  '-c',
  'what=$1; shift; "$@"; status=$?; echo; echo "[piko] $what ended with status $status; this window stays so you can read why (Enter closes it)"; read -r _',
  'sh',
  what,
  ...command,
];

/** Closes the environment's session, if there is one (and tmux is installed). */
async function killSession(ctx: StageContext): Promise<void> {
  const session = sessionOf(ctx);
  if ((await quietTmux(ctx, 'kill-session', '-t', `=${session}`)).code === 0) ctx.info(`closed tmux session ${session}`);
}

/** The services of the environment's compose file (the one piko wrote), in file order. */
function services(ctx: StageContext): string[] {
  const file = ctx.operation.environment.composeFile;
  if (ctx.operation.environment.mode !== 'docker' || !file || !existsSync(file)) return [];
  return Object.keys(readComposeFile(file, basename(file)).services ?? {});
}

function createStage(): StageDefinition {
  let made = false;
  return {
    name: 'tmux',
    order: STAGE_ORDER.TMUX,
    optional: true,
    plugin: PLUGIN_NAME,
    async run(ctx) {
      const { environment } = ctx.operation;
      const session = sessionOf(ctx);
      const env = Object.entries(ctx.operation.vars()).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
      // Prints the socket of the tmux server it was made on: remembered, so a destroy or an
      // attach from another context closes or finds it there.
      const newSession = () => quietTmux(ctx, 'new-session', '-d', '-P', '-F', '#{socket_path}', '-s', session, '-n', 'shell', '-c', environment.path, ...env);
      let started = await newSession();
      if (started.code === 127) {
        ctx.info('tmux is not installed, so there is no session; install tmux for a shell and a window per service');
        return;
      }
      made = true;
      // A session of this name is left from an earlier environment of the same name: not this one's.
      if (started.code !== 0 && started.stderr.includes('duplicate session')) {
        await killSession(ctx);
        started = await newSession();
      }
      if (started.code !== 0) {
        throw new PikoError('PIKO_ERR_STAGE_FAILED', `tmux failed: new-session -s ${session} exited with code ${started.code}: ${started.stderr.trim()}`, {
          stage: 'tmux',
          exitCode: started.code,
          command: `tmux new-session -d -s ${session}`,
        });
      }
      environment.tmux = session;
      const socket = started.stdout.trim();
      if (socket) environment.tmuxSocket = socket;
      const compose = environment.composeFile;
      const names = services(ctx);
      if (compose && names.length > 0) {
        const tool = await composeToolFor(ctx.operation);
        const command = (...args: string[]) => composeCommand(tool, environment.composeProject!, basename(compose), args).flat();
        for (const service of names) {
          const shell = (ctx.operation.config.shells?.[service] ?? DEFAULT_SHELL).split(/\s+/).filter(Boolean);
          await shownTmux(ctx, 'new-window', '-d', '-t', `=${session}:`, '-n', service, '-c', dirname(compose), ...env, ...staying(`the ${service} shell`, command('exec', service, ...shell)));
        }
        await shownTmux(ctx, 'new-window', '-d', '-t', `=${session}:`, '-n', 'logs', '-c', dirname(compose), ...env, ...staying('docker compose logs', command('logs', '-f')));
      }
      ctx.info(`tmux session ${session}: shell${names.map((n) => `, ${n}`).join('')}${names.length ? ', logs' : ''}`);
    },
    async rollback(ctx) {
      if (made) await killSession(ctx);
    },
  };
}

function destroyStage(): StageDefinition {
  return {
    name: 'tmux',
    order: STAGE_ORDER.DESTROY_TMUX,
    optional: true,
    plugin: PLUGIN_NAME,
    async run(ctx) {
      await killSession(ctx);
    },
  };
}

export class TmuxStagePlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  apply(engine: Engine): void {
    engine.hooks.registerStages.tap(PLUGIN_NAME, (registry, operation) => {
      if (operation.kind === 'create') registry.add(createStage());
      if (operation.kind === 'destroy') registry.add(destroyStage());
    });
  }
}
