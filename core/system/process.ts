// Whether a recorded process is still that process. A pid alone is not enough: after a crash,
// or days later, the same number may belong to something else, which must never be signalled.
import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the process started (clock ticks since boot, field 22 of /proc/<pid>/stat): with the
 * pid, it names one process for good. Undefined where there is no /proc.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that started at `start` (only its liveness, when no start was recorded). */
export function sameProcess(pid: number, start: string | null | undefined): boolean {
  if (!processAlive(pid)) return false;
  if (start === null || start === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === start;
}

/** Sends `signal` to the process group `pid` leads, if it is still the one that started at `start`. */
export function signalGroup(pid: number, start: string | null | undefined, signal: NodeJS.Signals): void {
  if (!sameProcess(pid, start)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone meanwhile.
  }
}
