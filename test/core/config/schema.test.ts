// The config file's JSON Schema: made from the zod schema piko validates with, shipped as the
// build made it (so it cannot drift from the code), and saying what piko says of a config.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SHELL, validateConfig } from '../../../core/config/config.js';
import { DEFAULT_WORKTREES } from '../../../core/paths.js';
import { configJsonSchema, configJsonSchemaText, SCHEMA_FILE } from '../../../core/config/schema.js';
import { DEFAULT_TRANSPORT } from '../../../core/config/transport.js';
import { ROOT } from '../../helpers/fixtures.js';

type Schema = Record<string, unknown>;

/** Annotations: they say, they do not check. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default']);

/**
 * A JSON Schema (draft-07) checker for the keywords the generated schema uses. None is in
 * node_modules, and a dependency for one test is not worth it; a keyword it does not know fails
 * the test instead of passing unchecked, so this cannot approve what it did not look at.
 */
function problems(schema: Schema, value: unknown, at = '$'): string[] {
  const found: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case 'type':
        if (typeOf(value) !== rule && !(rule === 'integer' && Number.isInteger(value))) found.push(`${at}: not ${String(rule)}`);
        break;
      case 'enum':
        if (!(rule as unknown[]).includes(value)) found.push(`${at}: not one of ${JSON.stringify(rule)}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value)) found.push(`${at}: does not match ${String(rule)}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number)) found.push(`${at}: shorter than ${String(rule)}`);
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (rule as number)) found.push(`${at}: fewer items than ${String(rule)}`);
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && !(value > (rule as number))) found.push(`${at}: not above ${String(rule)}`);
        break;
      case 'format':
        if (rule !== 'uri') found.push(`${at}: format ${String(rule)} is not known to this checker`);
        else if (typeof value === 'string' && !URL.canParse(value)) found.push(`${at}: not a URI`);
        break;
      case 'required':
        if (typeOf(value) === 'object') for (const key of rule as string[]) if (!(key in (value as object))) found.push(`${at}: ${key} is required`);
        break;
      case 'properties':
      case 'additionalProperties':
      case 'propertyNames': {
        if (typeOf(value) !== 'object') break;
        const known = (schema.properties ?? {}) as Record<string, Schema>;
        for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
          if (keyword === 'propertyNames') found.push(...problems(rule as Schema, key, `${at}[${JSON.stringify(key)}] (name)`));
          else if (keyword === 'properties' && key in known) found.push(...problems(known[key]!, inner, `${at}.${key}`));
          else if (keyword === 'additionalProperties' && !(key in known)) {
            if (rule === false) found.push(`${at}: unknown key ${JSON.stringify(key)}`);
            else if (typeof rule === 'object') found.push(...problems(rule as Schema, inner, `${at}.${key}`));
          }
        }
        break;
      }
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => found.push(...problems(rule as Schema, item, `${at}[${i}]`)));
        break;
      case 'anyOf':
        if ((rule as Schema[]).every((branch) => problems(branch, value, at).length > 0)) found.push(`${at}: matches none of anyOf`);
        break;
      default:
        throw new Error(`the test's checker does not know the keyword ${keyword} (at ${at}): teach it, or the schema's check means nothing`);
    }
  }
  return found;
}

/** The example config the README's Configuration section shows. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const example = /```yaml\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n## ', 1)));
  if (!example) throw new Error('README.md has no ```yaml example in its Configuration section');
  return example[1]!;
}

/** Whether piko itself takes `config`. */
function pikoTakes(config: unknown): boolean {
  try {
    validateConfig(config, '.piko.yml');
    return true;
  } catch {
    return false;
  }
}

describe('the JSON Schema of the config file', () => {
  it('ships as the generator makes it now', () => {
    const shipped = join(ROOT, 'dist', 'bin', SCHEMA_FILE);
    if (!existsSync(shipped)) throw new Error(`${shipped} is missing: npm run build makes it`);
    expect(readFileSync(shipped, 'utf8')).toBe(configJsonSchemaText());
  });

  it('says what it is, describes every key, and offers the defaults piko applies', () => {
    const schema = configJsonSchema() as Schema & { properties: Record<string, Schema & { additionalProperties?: Schema }> };
    expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', $id: expect.any(String), title: 'piko configuration', description: expect.any(String) });
    for (const [key, property] of Object.entries(schema.properties)) expect([key, typeof property.description]).toEqual([key, 'string']);
    expect(schema.properties.transport!.default).toBe(DEFAULT_TRANSPORT);
    expect(schema.properties.worktrees!.default).toBe(DEFAULT_WORKTREES);
    expect(schema.properties.shells!.additionalProperties!.default).toBe(DEFAULT_SHELL);
    expect(DEFAULT_WORKTREES).toBe('.piko/worktrees');
  });

  it("accepts the README's example config, as piko does", () => {
    const example = parseYaml(readmeExample()) as unknown;
    expect(pikoTakes(example)).toBe(true);
    expect(problems(configJsonSchema(), example)).toEqual([]);
    // A JSON config names the schema for its editor: piko takes that too.
    expect(pikoTakes({ $schema: './node_modules/piko/dist/bin/piko.schema.json' })).toBe(true);
  });

  it.each([
    ['an unknown key', { script: { setup: 'x' } }],
    ['an unknown script', { scripts: { setpu: 'npm install' } }],
    ['a script that is a list', { scripts: { setup: ['npm', 'install'] } }],
    ['a transport that is no name', { transport: 'Carrier Pigeon' }],
    ['a stage without run', { stages: [{ name: 'migrate' }] }],
    ['a timeout below 1', { stages: [{ name: 'x', run: 'y', timeout: -1 }] }],
    ['a server url that is no URL', { server: { url: 'not a url' } }],
    ['an environments entry with an unknown key', { environments: { 'ci-*': { transprot: 'sse' } } }],
    ['an empty compose list', { compose: [] }],
    ['a worktrees template with another placeholder', { worktrees: '../{branch}' }],
    ['a shared database of an unknown kind', { shared: { db: { database: 'oracle' } } }],
    ['a list at the top', ['just', 'a list']],
  ])('rejects %s, as piko does', (_what, config) => {
    expect(pikoTakes(config)).toBe(false);
    expect(problems(configJsonSchema(), config)).not.toEqual([]);
  });

  it('accepts what piko accepts beyond the example', () => {
    const config = {
      shells: { web: 'bash' },
      environments: { 'ci-*': {}, 'pr-?': { transport: 'stdout' } },
      compose: ['compose.yml', 'compose.dev.yml'],
      shared: { db: { database: 'postgres', template: 'seeded', seed: 'make seed', env: ['DATABASE_URL'] }, cache: null },
    };
    expect(pikoTakes(config)).toBe(true);
    expect(problems(configJsonSchema(), config)).toEqual([]);
  });
});
