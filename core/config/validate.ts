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

/** The first problem zod found in `input`, as `key: what was expected`. */
export function describeIssue(error: z.core.$ZodError, input: unknown): string {
  const issue = error.issues[0]!;
  const value = issue.path.reduce<unknown>(
    (node, key) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
  const key = keyPath(issue.path);
  return `${key === '' ? '' : `${key}: `}${explain(issue, value)}`;
}
