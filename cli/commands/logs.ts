// `piko logs <env|operation> [-f]`: an operation's log rendered like the live output, from
// $PIKO_HOME/logs when it is here, else from the server; `-f` follows a running one to its end.
// The exit code is the operation's: non-zero when it failed, or when following ended without
// seeing how it ended.
import { existsSync } from 'node:fs';
import type { PikoConfig } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import { followLog } from '../../core/state/log-follower.js';
import { operationLogPath, pikoHome } from '../../core/paths.js';
import { sameProcess } from '../../core/system/process.js';
import type { CompleteMessage } from '../../core/protocol/messages.js';
import { State } from '../../core/state/state.js';
import { findServer } from '../remote/discovery.js';
import { streamOperation } from '../remote/resume.js';
import { resolveOperation } from '../../core/state/resolve.js';
import { ExitError } from '../exit.js';
import { openOutput, type Output } from '../terminal/output.js';
import { chooseTransport } from '../../core/config/transport.js';

export interface LogsOptions {
  follow?: boolean;
  json?: boolean;
  transport?: string | undefined;
}

async function configOf(root: string | undefined): Promise<PikoConfig> {
  if (!root) return {};
  const { readableConfig } = await import('../../core/config/trust.js');
  return (await readableConfig(pikoHome(), root)).config;
}

export async function logs(ref: string, options: LogsOptions): Promise<void> {
  const state = new State(pikoHome());
  let shown: Output | undefined;
  try {
    const op = await resolveOperation(state, ref, process.cwd());
    // The status line counts from when the operation started, not from this command.
    shown = openOutput({ name: ref, json: options.json, ...(op.row && { startedAt: Date.parse(op.row.startedAt) }) });
    const path = operationLogPath(shown.home, op.id);
    const here = existsSync(path);
    // The config (which server, which transport) matters only to go through a server.
    const config = (options.follow && op.onServer) || !here ? await configOf(op.root) : {};
    const address = findServer(shown.home, config);

    let complete: CompleteMessage | undefined;
    // A running operation of the server is followed through it; a log that is here is read here.
    if (address && ((options.follow && op.onServer) || !here)) {
      const transport = chooseTransport(options.transport, config, op.row?.environment ?? ref) === 'sse' ? 'sse' : 'websocket';
      const result = await streamOperation(address, { attach: op.id, since: -1, follow: options.follow === true }, {
        transport,
        onMessage: (message) => shown!.renderer.render(message),
      });
      if (result.kind === 'complete') complete = result.complete;
      else if (result.kind !== 'ended') {
        throw new PikoError('PIKO_ERR_SERVER_LOST', `stopped following ${op.id}: ${'reason' in result ? result.reason : result.kind}`);
      }
    } else if (here) {
      const row = op.row;
      complete = await followLog(path, {
        onMessage: (message) => shown!.renderer.render(message),
        ...(options.follow && row ? { writing: () => sameProcess(row.pid, row.pidStart) } : {}),
        idle: () => shown!.out.flush(),
      });
      if (options.follow && !complete) {
        throw new PikoError('PIKO_ERR_INTERRUPTED', `${op.id} did not finish: the process running it stopped`, {
          hint: `The environment may be half made: \`piko destroy --force ${op.label}\` removes what is left.`,
        });
      }
    } else {
      throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `the log of ${op.id} is not in ${shown.home}/logs and no server is running`);
    }
    if (complete ? !complete.success : options.follow) throw new ExitError(1);
  } finally {
    shown?.close();
    state.close();
  }
}
