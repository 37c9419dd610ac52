// `piko attach [name]`: this terminal into the environment's tmux session.
import { PikoError } from '../../core/errors.js';
import { hasSession, tmuxSession } from '../../core/system/tmux.js';
import { attach as attachTo } from '../terminal/tmux-attach.js';
import { openState } from '../open-state.js';
import { resolveEnvironment } from '../../core/state/resolve.js';
import { ExitError } from '../exit.js';

export async function attach(name: string | undefined): Promise<void> {
  const { state } = openState();
  let session: string;
  let socket: string | undefined;
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    // Prune's idle time counts from a person's last use.
    state.touchEnvironment(environment.id);
    session = tmuxSession(project.name, environment.name);
    socket = environment.tmuxSocket;
  } finally {
    state.close();
  }
  if (!(await hasSession(session, socket))) {
    throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `there is no tmux session ${session} (is tmux installed? the session goes with \`piko destroy\`)`);
  }
  const code = await attachTo(session, socket);
  if (code !== 0) throw new ExitError(code);
}
