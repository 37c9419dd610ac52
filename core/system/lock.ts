// A lock between piko processes (a server, local CLIs), held as a file made with O_EXCL under
// $PIKO_HOME/locks: the file names the process holding it, so a lock left by a process that
// died is taken over instead of waited for. Within one process, holders of one lock queue.
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { processStart, sameProcess } from './process.js';

/** How often a waiter looks again at a lock another process holds. */
const RETRY_MS = 100;

const queues = new Map<string, Promise<unknown>>();

function holder(path: string): { pid: number; start: string | null } | undefined {
  try {
    const [pid, start] = readFileSync(path, 'utf8').trim().split(' ');
    return { pid: Number(pid), start: start || null };
  } catch {
    return undefined;
  }
}

/** Takes the file lock if it is free, clearing one a dead process left (taken on the next try). */
function tryTake(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, `${process.pid} ${processStart(process.pid) ?? ''}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const held = holder(path);
    // Made by a process that has died (or is being written right now: then it reads as empty, and is looked at again).
    if (held && Number.isInteger(held.pid) && held.pid > 0 && !sameProcess(held.pid, held.start)) rmSync(path, { force: true });
    return false;
  }
}

/**
 * Runs `work` holding the lock `name` in `home`; `onWait` is told once when another process
 * holds it. Aborting `signal` stops the wait.
 */
export async function withLock<T>(home: string, name: string, work: () => Promise<T>, options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<T> {
  const dir = join(home, 'locks');
  const path = join(dir, `${name}.lock`);
  const before = queues.get(path) ?? Promise.resolve();
  const turn = before.catch(() => undefined).then(async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let told = false;
    while (!tryTake(path)) {
      if (!told) options.onWait?.();
      told = true;
      options.signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
    try {
      return await work();
    } finally {
      rmSync(path, { force: true });
    }
  });
  queues.set(path, turn);
  void turn.finally(() => {
    if (queues.get(path) === turn) queues.delete(path);
  }).catch(() => undefined);
  return turn;
}
