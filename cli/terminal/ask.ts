// A yes/no question on the terminal, for approvals: asked only when a person is there to answer
// (stdin and stderr are terminals); anywhere else the answer is no.
import { createInterface } from 'node:readline/promises';

export const canAsk = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY);

/** After a refusal that showed what a project's config now runs: may it run? */
export const askToApprove = (): Promise<boolean> => ask('Approve what it runs, and go on?');

export async function ask(question: string): Promise<boolean> {
  if (!canAsk()) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}
