// Following an operation's log file while another process writes it (`piko logs -f` of an
// operation running in another terminal): woken by the file system when the file grows, with a
// slow check that the writer still lives, so a writer that died does not leave us waiting.
import { watch } from 'node:fs';
import type { CompleteMessage, OperationMessage } from '../protocol/messages.js';
import { readLogChunk } from './operation-log.js';

/** How often, with nothing written, the writer is checked for life. */
const LIVENESS_MS = 1000;

export interface FollowOptions {
  onMessage(message: OperationMessage): void;
  /** Whether the process writing the log still runs; undefined: follow nothing, read what is there. */
  writing?: () => boolean;
  /** Called when the messages read so far are handed over and the follower waits for more. */
  idle?: () => void;
}

/** Resolves with the log's `complete` message, or undefined when it ends (or its writer died) without one. */
export async function followLog(path: string, options: FollowOptions): Promise<CompleteMessage | undefined> {
  let offset = 0;
  for (;;) {
    for (let chunk = readLogChunk(path, offset); chunk.messages.length > 0; chunk = readLogChunk(path, offset)) {
      offset = chunk.offset;
      for (const message of chunk.messages) {
        options.onMessage(message);
        if (message.type === 'complete') return message;
      }
    }
    if (!options.writing?.()) return undefined;
    options.idle?.();
    await grown(path);
  }
}

/** Resolves when the file changes, or after LIVENESS_MS, whichever is first. */
function grown(path: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    const watcher = watch(path, { persistent: false }, done);
    watcher.on('error', done);
    const timer = setTimeout(done, LIVENESS_MS);
  });
}
