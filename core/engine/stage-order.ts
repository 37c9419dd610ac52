// Stage order comes from named positions and `before`/`after`, never from the order plugins
// happened to register in.
import { PikoError } from '../errors.js';
import type { StageDefinition } from './stage.js';

/** Positions of the built-in stages; a stage without `before`/`after` sits at its own. */
export const STAGE_ORDER = {
  // create
  GIT: 100,
  COPY: 120,
  PORTS: 150,
  SHARED: 160,
  DATABASE: 170,
  PREPARE: 200,
  DOCKER: 300,
  SETUP: 400,
  CUSTOM: 500,
  TMUX: 900,
  // destroy
  DESTROY_SCRIPT: 100,
  DESTROY_TMUX: 150,
  DESTROY_DOCKER: 200,
  DESTROY_DATABASE: 250,
  DESTROY_GIT: 300,
} as const;

/** What ordering reads of a stage. */
export type Orderable = Pick<StageDefinition, 'name' | 'order' | 'before' | 'after' | 'key' | 'file'>;

/** A config error about `stage`, named in the file that defines it when it says which. */
const configError = (stage: Orderable | undefined, text: string): PikoError =>
  new PikoError('PIKO_ERR_CONFIG_INVALID', stage?.file ? `${stage.file}: ${text}` : text);

/** A stage as the config names it: `setup`, not `script:setup`. */
const shown = (name: string): string => name.replace(/^script:/, '');
/** A stage for an error: its config key when it has one. */
const where = (stage: Orderable): string => (stage.key ? `${stage.key} (${shown(stage.name)})` : `stage ${JSON.stringify(shown(stage.name))}`);

/** Each stage's resolved `before` and `after` anchors (names of other stages). */
interface Anchors {
  before: Map<string, string | undefined>;
  after: Map<string, string | undefined>;
}

/**
 * Sorts stages so every `after` comes after its anchor and every `before` before it, a stage
 * anchored to another sits right beside it, and otherwise lower `order` goes first (ties keep
 * registration order). Unknown anchors, duplicate names and cycles are errors.
 */
export function orderStages<S extends Orderable>(stages: readonly S[]): S[] {
  const byName = uniqueNames(stages);
  const anchors = resolveAnchors(stages, byName);
  const sorted = sortAnchored(stages, byName, anchors, positions(stages, byName, anchors));
  if (sorted.length < stages.length) throw cycleError(stages.filter((s) => !sorted.includes(s)));
  return sorted;
}

/** The stages by name; two of one name are an error. */
function uniqueNames<S extends Orderable>(stages: readonly S[]): Map<string, S> {
  const byName = new Map<string, S>();
  for (const stage of stages) {
    if (byName.has(stage.name)) {
      const named = `two stages are named ${JSON.stringify(shown(stage.name))}`;
      throw configError(stage, stage.key ? `${stage.key}.name: ${named}` : named);
    }
    byName.set(stage.name, stage);
  }
  return byName;
}

/** Every `before`/`after` as the name of a stage there is: `after: setup` means `script:setup`, as people see it. */
function resolveAnchors(stages: readonly Orderable[], byName: Map<string, Orderable>): Anchors {
  const known = [...byName.keys()].map(shown).join(', ');
  const resolve = (stage: Orderable, which: 'before' | 'after'): string | undefined => {
    const anchor = stage[which];
    if (anchor === undefined) return undefined;
    if (byName.has(anchor)) return anchor;
    if (byName.has(`script:${anchor}`)) return `script:${anchor}`;
    const unknown = `unknown stage ${JSON.stringify(anchor)} (stages: ${known})`;
    throw configError(stage, stage.key ? `${stage.key}.${which}: ${unknown}` : `${where(stage)} refers to ${unknown}`);
  };
  return {
    before: new Map(stages.map((s) => [s.name, resolve(s, 'before')])),
    after: new Map(stages.map((s) => [s.name, resolve(s, 'after')])),
  };
}

/** Each stage's rank: its position (a stage anchored to another takes its anchor's, just after or before), then registration order. */
function positions(stages: readonly Orderable[], byName: Map<string, Orderable>, { before, after }: Anchors): (stage: Orderable) => [number, number] {
  const position = new Map<string, number>();
  const positionOf = (stage: Orderable, seen: Set<string>): number => {
    const cached = position.get(stage.name);
    if (cached !== undefined) return cached;
    const anchor = after.get(stage.name) ?? before.get(stage.name);
    let value = stage.order;
    if (anchor !== undefined && !seen.has(anchor)) {
      seen.add(stage.name);
      value = positionOf(byName.get(anchor)!, seen) + (after.get(stage.name) !== undefined ? 0.5 : -0.5);
    }
    position.set(stage.name, value);
    return value;
  };
  const index = new Map(stages.map((s, i) => [s.name, i]));
  return (stage) => [positionOf(stage, new Set()), index.get(stage.name)!];
}

/**
 * The stages in an order that keeps every anchor (edges anchor → stage for `after`, stage →
 * anchor for `before`), taking the lowest rank among those free to go next. Stages on a cycle
 * are never free: they are left out.
 */
function sortAnchored<S extends Orderable>(stages: readonly S[], byName: Map<string, S>, { before, after }: Anchors, rank: (stage: S) => [number, number]): S[] {
  const incoming = new Map<string, number>(stages.map((s) => [s.name, 0]));
  const outgoing = new Map<string, string[]>(stages.map((s) => [s.name, []]));
  const edge = (from: string | undefined, to: string | undefined): void => {
    if (from === undefined || to === undefined) return;
    outgoing.get(from)!.push(to);
    incoming.set(to, incoming.get(to)! + 1);
  };
  for (const stage of stages) {
    edge(after.get(stage.name), stage.name);
    const anchor = before.get(stage.name);
    if (anchor !== undefined) edge(stage.name, anchor);
  }
  const ready = stages.filter((s) => incoming.get(s.name) === 0);
  const sorted: S[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => {
      const [pa, ia] = rank(a);
      const [pb, ib] = rank(b);
      return pa - pb || ia - ib;
    });
    const next = ready.shift()!;
    sorted.push(next);
    for (const to of outgoing.get(next.name)!) {
      const left = incoming.get(to)! - 1;
      incoming.set(to, left);
      if (left === 0) ready.push(byName.get(to)!);
    }
  }
  return sorted;
}

function cycleError(stuck: readonly Orderable[]): PikoError {
  const named = stuck.every((s) => s.key) ? stuck.map(where).join(', ') : `stages ${stuck.map((s) => shown(s.name)).join(', ')}`;
  return configError(stuck.find((s) => s.file), `${named} form a cycle through before/after`);
}
