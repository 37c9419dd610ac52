// Merging compose documents the way docker compose does, for override files (`-f a -f b`,
// compose.override.yml) and for `extends`: mappings merge key by key, scalars are replaced, and
// each kind of list follows its own rule (environment and labels merge by name, volumes by their
// path in the container, ports add up, command and entrypoint are replaced). `!reset` drops what
// the base had; `!override` replaces it without merging.
import { isMapping, Tagged } from './yaml.js';

type Mapping = Record<string, unknown>;
type Merger = (base: unknown, over: unknown) => unknown;

/** Drops `!reset` keys and unwraps `!override` values, all the way down: what is left once nothing more merges. */
export function resolveTags(value: unknown): unknown {
  if (value instanceof Tagged) return value.tag === '!reset' ? undefined : resolveTags(value.value);
  if (Array.isArray(value)) return value.map(resolveTags);
  if (!isMapping(value)) return value;
  const out: Mapping = {};
  for (const [key, item] of Object.entries(value)) {
    if (item instanceof Tagged && item.tag === '!reset') continue;
    out[key] = resolveTags(item);
  }
  return out;
}

/** A base value as the merge sees it: a `!reset` in the base is nothing, an `!override` its value. */
const untag = (value: unknown): unknown => (value instanceof Tagged ? (value.tag === '!reset' ? undefined : value.value) : value);

function mergeMappings(base: Mapping, over: Mapping, ruleFor: (key: string) => Merger): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value instanceof Tagged) {
      if (value.tag === '!reset') delete out[key];
      else out[key] = value.value;
      continue;
    }
    const current = untag(out[key]);
    out[key] = current === undefined ? value : ruleFor(key)(current, value);
  }
  return out;
}

const replace: Merger = (_base, over) => over;

/** Mappings merge recursively; lists add up (without repeating an entry); anything else is replaced. */
const deep: Merger = (base, over) => {
  if (isMapping(base) && isMapping(over)) return mergeMappings(base, over, () => deep);
  if (Array.isArray(base) && Array.isArray(over)) return appendUnique(base, over);
  return over;
};

function appendUnique(base: unknown[], over: unknown[]): unknown[] {
  const seen = new Set(base.map((item) => JSON.stringify(item)));
  return [...base, ...over.filter((item) => !seen.has(JSON.stringify(item)))];
}

/** `["A=1", "B"]` or `{A: 1}` as a mapping; `separator` splits list entries (`=`, or `:` for extra_hosts). */
function asMapping(value: unknown, separators: RegExp): Mapping {
  if (isMapping(value)) return value;
  if (!Array.isArray(value)) return {};
  const out: Mapping = {};
  for (const entry of value) {
    const text = String(entry);
    const at = text.search(separators);
    if (at === -1) out[text] = null;
    else out[text.slice(0, at)] = text.slice(at + 1);
  }
  return out;
}

const byName =
  (separators: RegExp): Merger =>
  (base, over) =>
    mergeMappings(asMapping(base, separators), asMapping(over, separators), () => replace);

/** Lists whose entries replace the base's entry with the same key (a volume's container path, say). */
const byKey =
  (key: (entry: unknown) => string | undefined): Merger =>
  (base, over) => {
    if (!Array.isArray(base) || !Array.isArray(over)) return over;
    const out = [...base];
    for (const entry of over) {
      const k = key(entry);
      const at = k === undefined ? -1 : out.findIndex((existing) => key(existing) === k);
      if (at === -1) out.push(entry);
      else out[at] = entry;
    }
    return out;
  };

/** A service volume's path in the container: `src:target[:mode]`, `target`, or `{target}`. */
export function volumeTarget(entry: unknown): string | undefined {
  if (isMapping(entry)) return typeof entry.target === 'string' ? entry.target : undefined;
  if (typeof entry !== 'string') return undefined;
  const parts = entry.split(':');
  return parts.length === 1 ? parts[0] : parts[1];
}

const deviceTarget = (entry: unknown): string | undefined =>
  isMapping(entry) ? (entry.target as string | undefined) : typeof entry === 'string' ? entry.split(':')[1] ?? entry : undefined;

const sourceOf = (entry: unknown): string | undefined =>
  isMapping(entry) ? (entry.source as string | undefined) : typeof entry === 'string' ? entry : undefined;

/** `depends_on` and `networks`: a list of names or a mapping of name → options. */
const namesOrMapping =
  (listValue: () => unknown): Merger =>
  (base, over) => {
    const mapping = (value: unknown): Mapping =>
      Array.isArray(value) ? Object.fromEntries(value.map((name) => [String(name), listValue()])) : isMapping(value) ? value : {};
    return mergeMappings(mapping(base), mapping(over), () => deep);
  };

const logging: Merger = (base, over) => {
  if (!isMapping(base) || !isMapping(over)) return over;
  // Options of another driver mean nothing to this one.
  if (over.driver !== undefined && base.driver !== undefined && over.driver !== base.driver) return over;
  return mergeMappings(base, over, (key) => (key === 'options' ? byName(/=/) : deep));
};

const build: Merger = (base, over) => {
  const mapping = (value: unknown): Mapping => (typeof value === 'string' ? { context: value } : isMapping(value) ? value : {});
  return mergeMappings(mapping(base), mapping(over), (key) => (key === 'args' || key === 'labels' ? byName(/=/) : deep));
};

const healthcheck: Merger = (base, over) =>
  isMapping(base) && isMapping(over) ? mergeMappings(base, over, (key) => (key === 'test' ? replace : deep)) : over;

const deploy: Merger = (base, over) =>
  isMapping(base) && isMapping(over) ? mergeMappings(base, over, (key) => (key === 'labels' ? byName(/=/) : deep)) : over;

const SERVICE_RULES: Record<string, Merger> = {
  command: replace,
  entrypoint: replace,
  environment: byName(/=/),
  labels: byName(/=/),
  annotations: byName(/=/),
  sysctls: byName(/=/),
  extra_hosts: byName(/[=:]/),
  volumes: byKey(volumeTarget),
  devices: byKey(deviceTarget),
  secrets: byKey(sourceOf),
  configs: byKey(sourceOf),
  depends_on: namesOrMapping(() => ({ condition: 'service_started' })),
  networks: namesOrMapping(() => null),
  logging,
  build,
  healthcheck,
  deploy,
};

/** One service merged over another (an override file's, or the one it `extends`). */
export function mergeService(base: Mapping, over: Mapping): Mapping {
  return mergeMappings(base, over, (key) => SERVICE_RULES[key] ?? deep);
}

const services: Merger = (base, over) =>
  isMapping(base) && isMapping(over)
    ? mergeMappings(base, over, () => (b, o) => (isMapping(b) && isMapping(o) ? mergeService(b, o) : o))
    : over;

/** A whole compose document merged over another, as `docker compose -f base -f over` does. */
export function mergeCompose(base: Mapping, over: Mapping): Mapping {
  return mergeMappings(base, over, (key) => (key === 'services' ? services : deep));
}
