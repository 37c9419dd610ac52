// Addresses of a moved subnet named outside `ipam` and `ipv4_address` (an upstream DNS server in
// `environment:`, an `extra_hosts` entry, a `--server=` flag): once the subnet moves they point
// nowhere, and no alias keeps an old address answering. Every address of the old subnet means the
// same place at the same offset in the new one, so where piko writes the value it moves it there;
// where the value comes from elsewhere (a variable, an env_file), a warning names it.
import { interpolate, parseDotEnv, type Vars } from './interpolate.js';
import { movedAddress, type SubnetMove } from './subnets.js';
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;

// A whole dotted quad (a block's `/n` with it), not part of a longer dotted run or word:
// 172.20.0.25 is not 172.20.0.2 followed by a 5, and 1.172.20.0.2 is a version, not an address.
const ADDRESS = /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?(?!\.?\w)/g;
// `$$` first, so that an escaped dollar is never read as the start of a variable.
const VARIABLE = /\$(?:\$|\{([A-Za-z_]\w*)|([A-Za-z_]\w*))/g;

/** What the container or docker reads as an address, and only that: never `image` or build args. */
const REWRITTEN = ['environment', 'extra_hosts', 'dns', 'command', 'entrypoint', 'labels', 'healthcheck'];

export interface AddressContext {
  vars: Vars;
  readFile?: (path: string) => string | undefined;
}

/** Each address of a moved subnet in `text`, with where it is now. */
const movedIn = (text: string, moves: readonly SubnetMove[]): [string, string][] =>
  [...text.matchAll(ADDRESS)].flatMap(([old]) => {
    const now = movedAddress(old, moves);
    return now === undefined ? [] : [[old, now] as [string, string]];
  });

interface Found {
  text: string;
  /** Where it is, as the user reads it: `environment.KEY` also for a `KEY=value` list entry. */
  path: string;
  set(text: string): void;
}

/** Every string under `parent[key]`, to be replaced in place (the model is piko's own copy). */
function* strings(parent: unknown[] | Mapping, key: string | number, path: string): Generator<Found> {
  const holder = parent as Record<string | number, unknown>;
  const value = holder[key];
  if (typeof value === 'string') yield { text: value, path, set: (text) => (holder[key] = text) };
  else if (Array.isArray(value)) {
    for (const [i, entry] of value.entries()) {
      const name = typeof entry === 'string' && (path === 'environment' || path === 'labels') ? /^([^=]+)=/.exec(entry)?.[1] : undefined;
      yield* strings(value, i, name === undefined ? `${path}[${i}]` : `${path}.${name}`);
    }
  } else if (isMapping(value)) {
    for (const entry of Object.keys(value)) yield* strings(value, entry, `${path}.${entry}`);
  }
}

/** Environment entries whose value compose takes from the variable of the same name. */
function passedThrough(environment: unknown): string[] {
  if (Array.isArray(environment)) return environment.filter((entry): entry is string => typeof entry === 'string' && !entry.includes('='));
  if (!isMapping(environment)) return [];
  return Object.keys(environment).filter((key) => environment[key] === null || environment[key] === undefined);
}

function envFilePaths(value: unknown, vars: Vars): string[] {
  const entries = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return entries.flatMap((entry) => {
    const path = isMapping(entry) ? entry.path : entry;
    if (typeof path !== 'string') return [];
    try {
      return [interpolate(path, vars, 'env_file')];
    } catch {
      return [];
    }
  });
}

/** The services' values that name addresses of the moved subnets, moved with them or warned of. */
export function moveNamedAddresses(
  services: Record<string, Mapping | null>,
  allMoves: readonly SubnetMove[],
  context: AddressContext,
  notes: string[],
  warnings: string[],
): void {
  // An id that wraps a subnet round to where it was leaves its addresses meaning what they did.
  const moves = allMoves.filter((move) => move.offset !== 0);
  if (moves.length === 0) return;
  for (const [service, definition] of Object.entries(services)) {
    if (!definition) continue;
    const stale = (where: (old: string) => string, text: string, hint = '') => {
      for (const [old, now] of movedIn(text, moves)) {
        warnings.push(`services.${service}: ${where(old)}, which piko does not rewrite: that address is ${now} in this environment, so it points nowhere${hint}`);
      }
    };
    const fromVariable = (path: string, name: string) =>
      stale((old) => `${path} gets ${old} from the variable ${name}`, context.vars[name] ?? '', ' (write the address in the compose file instead)');
    for (const { text, path, set } of REWRITTEN.flatMap((key) => [...strings(definition, key, key)])) {
      set(
        text.replace(ADDRESS, (old) => {
          const now = movedAddress(old, moves);
          if (now !== undefined) notes.push(`services.${service}: ${old} in ${path} is ${now}`);
          return now ?? old;
        }),
      );
      for (const [, braced, bare] of text.matchAll(VARIABLE)) if (braced ?? bare) fromVariable(path, (braced ?? bare)!);
    }
    for (const name of passedThrough(definition.environment)) fromVariable(`environment.${name}`, name);
    for (const path of envFilePaths(definition.env_file, context.vars)) {
      const text = context.readFile?.(path);
      for (const [key, value] of Object.entries(text === undefined ? {} : parseDotEnv(text))) {
        stale((old) => `${key} in env_file ${path} is ${old}`, value, ' (set it under environment: instead)');
      }
    }
    // `networks` holds the ipv4_address piko moved already; an image tag is never an address.
    const others = Object.keys(definition).filter((key) => !REWRITTEN.includes(key) && key !== 'networks' && key !== 'image');
    for (const { text, path } of others.flatMap((key) => [...strings(definition, key, key)])) stale((old) => `${path} names ${old}`, text);
  }
}
