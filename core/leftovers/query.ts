// What the finders ask docker and tmux: a quick query, its failure said in a line.
import { query as ask, whyFailed } from '../system/query.js';

export { nonEmptyLines as lines } from '../system/query.js';

const TIMEOUT_MS = 10_000;

export interface Ran {
  ok: boolean;
  stdout: string;
  /** Why it failed, in a line: `not installed`, or the first thing it said on stderr. */
  why: string;
}

export async function query(file: string, args: readonly string[]): Promise<Ran> {
  const ran = await ask(file, args, { timeout: TIMEOUT_MS });
  return ran.exitCode === 0 ? { ok: true, stdout: ran.stdout, why: '' } : { ok: false, stdout: ran.stdout, why: whyFailed(ran, TIMEOUT_MS) };
}
