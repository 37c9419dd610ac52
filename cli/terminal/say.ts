// How piko speaks for itself, the same everywhere: an error is `✗ what failed` with what else
// there is to say (where, the exit code, what to do next) indented below it; a note is
// `[piko] …`, like the lines piko adds to an operation's stream.
import { createColors } from 'picocolors';

/**
 * Colour on a terminal only: never with a NO_COLOR that is set and not empty (the no-color.org
 * convention), always with FORCE_COLOR (other than 0), and otherwise when `stream` is a TTY
 * that is not `dumb`.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if ('FORCE_COLOR' in env) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** `✗ message`, then each of `more` indented and dimmed: an error as every command says it, for stderr. */
export function errorText(message: string, more: readonly string[] = [], colour = colorEnabled(process.stderr)): string {
  const c = createColors(colour);
  return `${[`${c.red('✗')} ${message}`, ...more.map((line) => c.dim(`  ${line}`))].join('\n')}\n`;
}

/** A note of piko's own: `[piko] text`. */
export const noteText = (text: string): string => `[piko] ${text}\n`;

/**
 * commander's `error: unknown option '--x'` and `(Did you mean --y?)` in piko's voice:
 * `✗ unknown option '--x'` with `did you mean --y?` and `hint` below it.
 */
export function usageErrorText(text: string, hint: string): string {
  const [first = '', ...rest] = text.trimEnd().split('\n');
  const more = rest.map((line) => line.replace(/^\((.*)\)$/, '$1').replace(/^Did/, 'did'));
  return errorText(first.replace(/^error: /, ''), [...more, hint]);
}
