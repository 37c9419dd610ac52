// zod issues worded for people: `stages[0].run: required string`.
import type { z } from 'zod';

/** `stages[0].run` from a zod path. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

function explain(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = ({ object: 'a mapping', array: 'a list' } as Record<string, string>)[issue.expected] ?? issue.expected;
      return value === undefined ? `required ${expected}` : `expected ${expected}, got ${describe(value)}`;
    }
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`;
    case 'invalid_union': {
      // A discriminated union names the values it knows.
      const options = (issue as { options?: unknown[] }).options;
      if (options) {
        const known = `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
        return value === undefined ? `required, ${known}` : `${known}, got ${describe(value)}`;
      }
      return `expected ${issue.message}, got ${describe(value)}`;
    }
    default:
      return `expected ${issue.message}, got ${describe(value)}`;
  }
}

/** Edit distance, for suggesting the key that was meant. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The known key nearest to `key`, when one is near enough to be what was meant. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const ranked = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = ranked[0];
  return best && best.d <= Math.max(1, Math.floor(key.length / 3)) ? best.k : undefined;
}

/** One problem zod found in `input`, as `key: what was expected`; `knownKeys` names the keys allowed where an unknown one was found. */
function describeOne(issue: z.core.$ZodIssue, input: unknown, knownKeys?: (path: readonly PropertyKey[]) => readonly string[]): string {
  const value = issue.path.reduce<unknown>(
    (node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
  let text = explain(issue, value);
  if (issue.code === 'unrecognized_keys' && knownKeys) {
    const known = knownKeys(issue.path);
    const hints = issue.keys.map((k) => nearest(k, known)).filter((k): k is string => k !== undefined);
    if (hints.length) text += ` (did you mean ${hints.map((k) => JSON.stringify(k)).join(', ')}?)`;
  }
  const key = keyPath(issue.path);
  return `${key === '' ? '' : `${key}: `}${text}`;
}

/** The first problem zod found in `input`, as `key: what was expected`. */
export function describeIssue(error: z.core.$ZodError, input: unknown): string {
  return describeOne(error.issues[0]!, input);
}

/** Every problem zod found in `input`, one each. */
export function describeIssues(error: z.core.$ZodError, input: unknown, knownKeys?: (path: readonly PropertyKey[]) => readonly string[]): string[] {
  return error.issues.map((issue) => describeOne(issue, input, knownKeys));
}
