// `piko logs <env|operation> [-f]`: an operation's log rendered like the live output, from
// $PIKO_HOME/logs when it is here, else from the server; `-f` follows a running one to its end.
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { loadConfig } from '../../core/config.js';
import { PikoError } from '../../core/errors.js';
import { operationLogPath, pikoHome } from '../../core/paths.js';
import type { OperationMessage } from '../../core/protocol.js';
import { processAlive, State } from '../../core/state.js';
import { readServerInfo } from '../../transports/server.js';
import { findServer, streamOperation, type NetworkTransport } from '../client.js';
import { resolveOperation } from '../context.js';
import { ExitError } from '../exit.js';
import { output, type Output } from '../operate.js';
import { chooseTransport } from '../transport.js';

export interface LogsOptions {
  follow: boolean;
  json: boolean;
  transport?: string | undefined;
}

/** Renders the log file from `offset` on; returns the new offset and whether `complete` came. */
function renderFrom(path: string, offset: number, shown: Output): { offset: number; complete?: OperationMessage } {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    const buffer = Buffer.alloc(1024 * 1024);
    for (let n = readSync(fd, buffer, 0, buffer.length, offset); n > 0; n = readSync(fd, buffer, 0, buffer.length, offset)) {
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      offset += n;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    // Only whole lines: a line still being written is read next time.
    const end = text.lastIndexOf('\n') + 1;
    let complete: OperationMessage | undefined;
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      const message = JSON.parse(line) as OperationMessage;
      shown.renderer.render(message);
      if (message.type === 'complete') complete = message;
    }
    return { offset: offset - Buffer.byteLength(text.slice(end)), ...(complete ? { complete } : {}) };
  } finally {
    closeSync(fd);
  }
}

export async function logs(ref: string, options: LogsOptions): Promise<void> {
  const state = new State(pikoHome());
  let shown: Output | undefined;
  try {
    const op = await resolveOperation(state, ref, process.cwd());
    shown = output({ name: ref, json: options.json });
    const path = operationLogPath(shown.home, op.id);
    const config = op.root ? (await loadConfig(op.root)).config : {};
    const address = findServer(shown.home, config);
    const onServer = op.row?.status === 'running' && op.row.pid === readServerInfo(shown.home)?.pid;

    let complete: OperationMessage | undefined;
    if (options.follow && onServer && address) {
      // Followed through the server, which sends each message as it happens.
      const transport = chooseTransport(options.transport, config, op.row!.environment);
      const result = await streamOperation(address, { attach: op.id, since: -1, follow: true }, {
        transport: transport === 'sse' ? 'sse' : ('websocket' as NetworkTransport),
        onMessage: (message) => shown!.renderer.render(message),
      });
      if (result.kind === 'complete') complete = result.complete;
      else if (result.kind !== 'ended') shown.say(`piko: stopped following ${op.id}: ${'reason' in result ? result.reason : result.kind}`);
    } else if (existsSync(path)) {
      let read = renderFrom(path, 0, shown);
      complete = read.complete;
      // Following a local run: read what its process appends until it ends.
      while (options.follow && !complete && op.row && processAlive(op.row.pid)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        shown.out.flush();
        read = renderFrom(path, read.offset, shown);
        complete = read.complete;
      }
      if (options.follow && !complete) shown.say(`piko: ${op.id} did not finish: the process running it stopped`);
    } else if (address) {
      const result = await streamOperation(address, { attach: op.id, since: -1, follow: options.follow }, {
        transport: 'websocket',
        onMessage: (message) => shown!.renderer.render(message),
      });
      if (result.kind === 'complete') complete = result.complete;
    } else {
      throw new PikoError('PIKO_ERR_ENV_NOT_FOUND', `the log of ${op.id} is not in ${shown.home}/logs and no server is running`);
    }
    if (complete?.type === 'complete' && !complete.success) throw new ExitError(1);
  } finally {
    shown?.close();
    state.close();
  }
}
