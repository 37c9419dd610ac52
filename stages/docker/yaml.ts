// Compose files read and written with the meaning docker compose gives them. Compose v2 reads
// YAML 1.2 booleans (only true/false) but YAML 1.1 octals (`mode: 0440` is 288), and Compose v1
// reads YAML 1.1 throughout; piko's output must mean the same to both:
// - `0440` stays the octal number it is, written back as `0440`;
// - strings that YAML 1.1 would take for something else (`restart: "no"`, `"on"`) stay quoted;
// - `!reset` and `!override` come back as `Tagged` values for the merge to apply;
// - YAML aliases: a real compose file may use hundreds, so the bound is far above that, yet
//   still stops an exponential "billion laughs" expansion.
import { describeYamlError } from '../../core/config/yaml.js';
import { isNode, parseDocument, Scalar, stringify, visit, type ScalarTag, type Tags } from 'yaml';

/** An integer written in octal (`0440`), kept so that it is written back the same way. */
export class OctalNumber {
  constructor(readonly value: number) {}
  toString(): string {
    return String(this.value);
  }
}

/** A value under a compose merge tag: `!reset` (drop what the base had) or `!override` (replace it whole). */
export class Tagged {
  constructor(
    readonly tag: '!reset' | '!override',
    readonly value: unknown,
  ) {}
}

const octal: ScalarTag = {
  identify: (value) => value instanceof OctalNumber,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^0[0-7]+$/,
  resolve: (text) => new OctalNumber(parseInt(text, 8)),
  stringify: ({ value }) => `0${(value as OctalNumber).value.toString(8)}`,
};

// First, so that `0440` is octal before the core schema's decimal integers see it.
const customTags = (tags: Tags): Tags => [octal, ...tags];

/** How many alias expansions one file may make (the yaml library's count): far above real files. */
export const MAX_ALIAS_COUNT = 100_000;

export type YamlResult = { value: unknown; error?: undefined } | { value?: undefined; error: string };

/** Parses one compose file; a problem comes back as `line N, column M: what`, never thrown. */
export function readComposeYaml(text: string): YamlResult {
  const doc = parseDocument(text, { merge: true, customTags });
  const error = doc.errors[0];
  if (error) return { error: describeYamlError(error) };
  try {
    visit(doc, {
      Node(_, node) {
        if (node.tag !== '!reset' && node.tag !== '!override') return undefined;
        return new Scalar(new Tagged(node.tag, node.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT })));
      },
    });
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (err) {
    // The alias bound, or an alias to an anchor that is not defined.
    return { error: (err as Error).message };
  }
}

/** Compose YAML that means the same to Compose v1 and v2 (see the top of this file). */
export function writeComposeYaml(value: unknown): string {
  return stringify(value, { customTags, compat: 'yaml-1.1', lineWidth: 0, aliasDuplicateObjects: false });
}

/** Whether `value` is a plain mapping (not a list, a tag or an octal number). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isNode(value) && Object.getPrototypeOf(value) === Object.prototype;
}
