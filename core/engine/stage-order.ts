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
  PREPARE: 200,
  DOCKER: 300,
  SETUP: 400,
  CUSTOM: 500,
  TMUX: 900,
  // destroy
  DESTROY_SCRIPT: 100,
  DESTROY_TMUX: 150,
  DESTROY_DOCKER: 200,
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

/**
 * Sorts stages so every `after` comes after its anchor and every `before` before it, a stage
 * anchored to another sits right beside it, and otherwise lower `order` goes first (ties keep
 * registration order). Unknown anchors, duplicate names and cycles are errors.
 */
export function orderStages<S extends Orderable>(stages: readonly S[]): S[] {
  const byName = new Map<string, S>();
  for (const stage of stages) {
    if (byName.has(stage.name)) {
      const named = `two stages are named ${JSON.stringify(shown(stage.name))}`;
      throw configError(stage, stage.key ? `${stage.key}.name: ${named}` : named);
    }
    byName.set(stage.name, stage);
  }
  const known = [...byName.keys()].map(shown).join(', ');
  // `after: setup` means the stage `script:setup`: scripts are named as people see them.
  const resolve = (stage: S, which: 'before' | 'after'): string | undefined => {
    const anchor = stage[which];
    if (anchor === undefined) return undefined;
    if (byName.has(anchor)) return anchor;
    if (byName.has(`script:${anchor}`)) return `script:${anchor}`;
    const unknown = `unknown stage ${JSON.stringify(anchor)} (stages: ${known})`;
    throw configError(stage, stage.key ? `${stage.key}.${which}: ${unknown}` : `${where(stage)} refers to ${unknown}`);
  };
  const before = new Map(stages.map((s) => [s.name, resolve(s, 'before')]));
  const after = new Map(stages.map((s) => [s.name, resolve(s, 'after')]));
  const anchorOf = (stage: S): string | undefined => after.get(stage.name) ?? before.get(stage.name);

  // Edges: anchor → stage for `after`, stage → anchor for `before`.
  const incoming = new Map<string, number>(stages.map((s) => [s.name, 0]));
  const outgoing = new Map<string, string[]>(stages.map((s) => [s.name, []]));
  const edge = (from: string, to: string): void => {
    outgoing.get(from)!.push(to);
    incoming.set(to, incoming.get(to)! + 1);
  };
  for (const stage of stages) {
    const a = after.get(stage.name);
    const b = before.get(stage.name);
    if (a !== undefined) edge(a, stage.name);
    if (b !== undefined) edge(stage.name, b);
  }

  // A stage anchored to another takes its position (just after or just before it).
  const position = new Map<string, number>();
  const positionOf = (stage: S, seen: Set<string>): number => {
    const cached = position.get(stage.name);
    if (cached !== undefined) return cached;
    const anchor = anchorOf(stage);
    let value = stage.order;
    if (anchor !== undefined && !seen.has(anchor)) {
      seen.add(stage.name);
      value = positionOf(byName.get(anchor)!, seen) + (after.get(stage.name) !== undefined ? 0.5 : -0.5);
    }
    position.set(stage.name, value);
    return value;
  };
  const index = new Map(stages.map((s, i) => [s.name, i]));
  const rank = (s: S): [number, number] => [positionOf(s, new Set()), index.get(s.name)!];

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
  if (sorted.length < stages.length) {
    const stuck = stages.filter((s) => !sorted.includes(s));
    const named = stuck.every((s) => s.key) ? stuck.map(where).join(', ') : `stages ${stuck.map((s) => shown(s.name)).join(', ')}`;
    throw configError(stuck.find((s) => s.file), `${named} form a cycle through before/after`);
  }
  return sorted;
}
