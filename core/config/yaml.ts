import { parseDocument, type YAMLError } from 'yaml';

/** A YAML error as one line: `line N, column M: what`. */
export function describeYamlError(error: YAMLError): string {
  const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '');
  const at = error.linePos?.[0];
  return at ? `line ${at.line}, column ${at.col}: ${what}` : what;
}

/** Parses YAML (with merge keys); a syntax error comes back as `line N, column M: what`. */
export function parseYaml(text: string): { value: unknown; error?: undefined } | { value?: undefined; error: string } {
  const doc = parseDocument(text, { merge: true });
  const error = doc.errors[0];
  if (!error) return { value: doc.toJS({ maxAliasCount: 1000 }) as unknown };
  return { error: describeYamlError(error) };
}
