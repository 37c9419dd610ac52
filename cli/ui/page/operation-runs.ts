// The streams of the operations the panel follows: each read into its session, and a connection
// lost before the operation's `complete` taken up again from the last seq the session has (the
// server replays from there), a few times, further apart each time.
import type { OperationSession } from '../session.js';
import { SignedOut, streamOperation, type StreamTarget } from './api.js';

/** Connection attempts to an operation's stream in a row before the page says it lost it. */
const STREAM_TRIES = 6;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RunHooks {
  /** The session took a message, or its stream ended: its view catches up. */
  changed(session: OperationSession): void;
  signedOut(): void;
  /** It ended while this page followed it (not a replay of a log that ended long ago). */
  ended(session: OperationSession): void;
}

export class OperationRuns {
  private readonly streams = new Map<OperationSession, AbortController>();

  constructor(private readonly hooks: RunHooks) {}

  /** Stops reading `session`'s stream (the operation goes on). */
  abort(session: OperationSession): void {
    this.streams.get(session)?.abort();
  }

  abortAll(): void {
    for (const controller of this.streams.values()) controller.abort();
  }

  async run(session: OperationSession, first: StreamTarget): Promise<void> {
    const controller = new AbortController();
    this.streams.set(session, controller);
    const onMessage = (message: Parameters<OperationSession['feed']>[0]): void => {
      session.feed(message);
      tries = 0;
      this.hooks.changed(session);
    };
    let target = first;
    let tries = 0;
    try {
      for (;;) {
        try {
          await streamOperation(target, onMessage, controller.signal);
        } catch (err) {
          if (controller.signal.aborted) return;
          if (err instanceof SignedOut) {
            session.lose('Signed out.');
            this.hooks.signedOut();
            return;
          }
          // fetch's own failure (the network) is worth trying again; the server's answer is not.
          if (!(err instanceof TypeError)) {
            session.lose((err as Error).message);
            return;
          }
        }
        if (session.ended || controller.signal.aborted) return;
        if ('operation' in target && !target.follow) {
          session.lose('The log ends here, without how the operation ended.');
          return;
        }
        if (session.id === undefined) {
          session.lose('The connection was lost before the server took the request: the board shows whether it started.');
          return;
        }
        if (++tries > STREAM_TRIES) {
          session.lose('The connection to the server was lost.');
          return;
        }
        await sleep(Math.min(8000, 500 * 2 ** (tries - 1)));
        if (controller.signal.aborted) return;
        target = { operation: session.id, since: session.last, follow: true };
      }
    } finally {
      if (this.streams.get(session) === controller) this.streams.delete(session);
      this.hooks.changed(session);
      // A replay of a log that ended long ago is not news.
      if (session.ended && session.phase !== 'lost' && ('start' in first || first.follow)) this.hooks.ended(session);
    }
  }
}
