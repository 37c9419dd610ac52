// `piko cancel <env|operation>`: stop a running operation wherever it runs (the server, or a
// local `piko` process) and have it roll back.
import { userInfo, hostname } from 'node:os';
import { readableConfig } from '../../core/config/trust.js';
import { PikoError } from '../../core/errors.js';
import { pikoHome } from '../../core/paths.js';
import { sameProcess } from '../../core/system/process.js';
import { State } from '../../core/state/state.js';
import { findServer, requestCancel } from '../remote/discovery.js';
import { resolveOperation } from '../../core/state/resolve.js';

export async function cancel(ref: string): Promise<void> {
  const home = pikoHome();
  const state = new State(home);
  try {
    const op = await resolveOperation(state, ref, process.cwd());
    const follow = `\`piko logs -f ${op.label}\` shows it rolling back`;
    if (op.row && op.row.status !== 'running') {
      throw new PikoError('PIKO_ERR_NOT_RUNNING', `${op.id} (${op.row.kind} ${op.label}) is not running: it ${op.row.status}`, {
        hint: `Nothing to cancel: \`piko logs ${op.label}\` shows how it ended.`,
      });
    }
    const config = op.root ? (await readableConfig(home, op.root)).config : {};
    const address = findServer(home, config);
    if (address && (!op.row || op.onServer)) {
      const answer = await requestCancel(address, op.id, `piko cancel (${userInfo().username}@${hostname()})`);
      if (!answer.ok) throw new PikoError('PIKO_ERR_NOT_RUNNING', answer.message);
      console.log(`cancelling ${op.id} (${op.row?.kind ?? 'operation'} ${op.label}) on the server; ${follow}`);
      return;
    }
    if (op.row && sameProcess(op.row.pid, op.row.pidStart)) {
      // A local `piko` runs it: it takes SIGUSR2 as "cancel".
      process.kill(op.row.pid, 'SIGUSR2');
      console.log(`cancelling ${op.id} (${op.row.kind} ${op.label}) in the piko process running it (pid ${op.row.pid}); ${follow}`);
      return;
    }
    throw new PikoError(
      'PIKO_ERR_NOT_RUNNING',
      `${op.id} was left running by a piko process that stopped (pid ${op.row?.pid}); \`piko destroy --force ${op.label}\` cleans up after it`,
    );
  } finally {
    state.close();
  }
}
