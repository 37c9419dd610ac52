// Compose's variable interpolation and its `.env` file: what piko needs to read the values it
// decides on (ports, replicas, container names) the way compose will.
import { PikoError } from '../../core/errors.js';

export type Vars = Record<string, string | undefined>;

export const invalid = (where: string, message: string): PikoError =>
  new PikoError('PIKO_ERR_COMPOSE_INVALID', `${where}: ${message}`, { stage: 'docker' });

/** Reads `.env`-style `KEY=value` lines (the file compose reads for interpolation). */
export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    vars[match[1]!] = value;
  }
  return vars;
}

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}`, `$VAR` and `$$`. */
export function interpolate(value: string, vars: Vars, where: string): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, braced: string | undefined, colon: string, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = vars[name];
      const unset = current === undefined || (colon === ':' && current === '');
      switch (op) {
        case '-':
          return unset ? interpolate(arg ?? '', vars, where) : current!;
        case '+':
          return unset ? '' : interpolate(arg ?? '', vars, where);
        case '?':
          if (unset) throw invalid(where, `${name} is required${arg ? ` (${arg})` : ''}`);
          return current!;
        default:
          return current ?? '';
      }
    },
  );
}
