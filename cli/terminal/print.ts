// A command's whole answer (a table, a report, JSON) written to stdout at once.
import { fstatSync, writeSync } from 'node:fs';

/**
 * Writes `text` to stdout synchronously, without `process.stdout`: making that stream loads
 * Node's stream and socket modules, several milliseconds of a command that prints one table.
 * A reader that left (`piko list | head -1`) ends the writing quietly; a stdout another process
 * made non-blocking gets the rest through the stream, which waits for it.
 */
export function print(text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(1, rest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      process.stdout.write(rest);
      return;
    }
  }
}

/**
 * stdout's width when it is a terminal. The stream is asked only when stdout is a character
 * device (a terminal, or /dev/null, whose stream has no width), so that `piko list | less` does
 * not make it.
 */
export function stdoutColumns(): number | undefined {
  try {
    if (!fstatSync(1).isCharacterDevice()) return undefined;
  } catch {
    return undefined;
  }
  return process.stdout.columns;
}
