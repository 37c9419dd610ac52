// What the server gives back once it has nothing to do. An operation that prints a lot makes
// V8 grow its young generation (to 32 MB), and V8 keeps that size while nothing allocates: the
// server would sit at about 1.8 times its idle memory after one big create. V8 shrinks it at a
// full collection that comes after a quiet time (it judges the rate of allocation over the last
// few seconds), and a server with nothing to do collects nothing. So, once idle, the server
// collects twice: once to start a quiet time, and once after it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** When, once nothing is in flight, the server collects: the second after V8's 5 s window of allocation rates. */
const IDLE_COLLECTIONS_MS = [1000, 7000];

let gc: (() => void) | undefined;

/**
 * A full collection. `gc` exists only in contexts made after the flag is set, so the program's
 * own global scope never sees it.
 */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Runs `collect` at each of `afterMs` while the server stays idle, never while it is busy. */
export class IdleCollector {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly collect: () => void = collectGarbage,
    private readonly afterMs = IDLE_COLLECTIONS_MS,
  ) {}

  /** Something started: no collection until it is idle again. */
  busy(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Nothing is in flight any more. */
  idle(): void {
    this.busy();
    // A server that is shutting down does not wait for them.
    this.timers = this.afterMs.map((ms) => setTimeout(this.collect, ms).unref());
  }
}
