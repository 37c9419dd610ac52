// `piko logs <env|operation> [-f]`: an operation's log rendered like the live output, from
// $PIKO_HOME/logs when it is here, else from the server; `-f` follows a running one to its end.
// The exit code is the operation's: non-zero when it failed, or when following ended without
// seeing how it ended.
import { existsSync } from 'node:fs';
import { loadConfig } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import { readLogChunk } from '../../core/state/operation-log.js';
import { operationLogPath, pikoHome } from '../../core/paths.js';
import { sameProcess } from '../../core/system/process.js';
import type { CompleteMessage } from '../../core/protocol/messages.js';
import { State } from '../../core/state/state.js';
import { findServer, streamOperation } from '../remote/client.js';
import { resolveOperation, type OperationRef } from '../context.js';
import { ExitError } from '../exit.js';
import { terminalSession, type Output } from '../terminal/session.js';
import { chooseTransport } from '../delivery/transports.js';

export interface LogsOptions {
  follow: boolean;
  json: boolean;
  transport?: string | undefined;
}

/** Renders the log file, and with `follow` what the local process running it appends, until `complete`. */
async function fromFile(path: string, op: OperationRef, follow: boolean, shown: Output): Promise<CompleteMessage | undefined> {
  let offset = 0;
  for (;;) {
    for (let chunk = readLogChunk(path, offset); chunk.messages.length > 0; chunk = readLogChunk(path, offset)) {
      offset = chunk.offset;
      for (const message of chunk.messages) {
        shown.renderer.render(message);
        if (message.type === 'complete') return message;
      }
    }
    if (!follow || !op.row || !sameProcess(op.row.pid, op.row.pidStart)) return undefined;
    shown.out.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function logs(ref: string, options: LogsOptions): Promise<void> {
  const state = new State(pikoHome());
  let shown: Output | undefined;
  try {
    const op = await resolveOperation(state, ref, process.cwd());
    shown = terminalSession({ name: ref, json: options.json });
    const path = operationLogPath(shown.home, op.id);
    const config = op.root ? (await loadConfig(op.root)).config : {};
    const address = findServer(shown.home, config);

    let complete: CompleteMessage | undefined;
    // A running operation of the server is followed through it; a log that is here is read here.
    if (address && ((options.follow && op.onServer) || !existsSync(path))) {
      const transport = chooseTransport(options.transport, config, op.row?.environment ?? ref) === 'sse' ? 'sse' : 'websocket';
      const result = await streamOperation(address, { attach: op.id, since: -1, follow: options.follow }, {
        transport,
        onMessage: (message) => shown!.renderer.render(message),
      });
      if (result.kind === 'complete') complete = result.complete;
      else if (result.kind !== 'ended') shown.say(`piko: stopped following ${op.id}: ${'reason' in result ? result.reason : result.kind}`);
    } else if (existsSync(path)) {
      complete = await fromFile(path, op, options.follow, shown);
      if (options.follow && !complete) shown.say(`piko: ${op.id} did not finish: the process running it stopped`);
    } else {
      throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `the log of ${op.id} is not in ${shown.home}/logs and no server is running`);
    }
    if (complete ? !complete.success : options.follow) throw new ExitError(1);
  } finally {
    shown?.close();
    state.close();
  }
}
