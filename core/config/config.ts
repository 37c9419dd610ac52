// Project configuration: found by cosmiconfig in the project root only, validated with zod.
// Every problem is reported as one line naming the file, the key path and what was expected,
// and is thrown before anything runs.
import { basename } from 'node:path';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import * as z from 'zod/mini';
import { PikoError } from '../errors.js';
import { describeIssues } from './validate.js';
import { parseYaml } from './yaml.js';

export const CONFIG_SEARCH_PLACES = [
  '.piko.yml',
  '.piko.yaml',
  '.pikorc',
  '.pikorc.json',
  '.pikorc.yaml',
  '.pikorc.yml',
  '.pikorc.js',
  '.pikorc.mjs',
  '.pikorc.cjs',
  'piko.config.js',
  'piko.config.mjs',
  'piko.config.cjs',
  'piko.config.ts',
  'package.json',
];

/** The built-in transports; plugins may add more, so config accepts any name (checked when used). */
export type TransportName = 'websocket' | 'sse' | 'stdout' | (string & {});
const transportSchema = () =>
  z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, 'a transport name (websocket, sse, stdout, or one a plugin adds)'));

// The schemas are built when first used: a command that reads no config pays nothing for them.
// zod's functional build (`zod/mini`): the same checks and issues, a fraction of the code to load.
const stageSchema = () =>
  z.strictObject({
    name: z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lowercase name of letters, digits, `-` or `_`')),
    run: z.string().check(z.minLength(1, 'a non-empty command')),
    before: z.optional(z.string()),
    after: z.optional(z.string()),
    env: z.optional(z.record(z.string(), z.string())),
    timeout: z.optional(z.number().check(z.positive('a number of seconds above 0'))),
    optional: z.optional(z.boolean()),
  });

const nonEmpty = () => z.string().check(z.minLength(1));

/** The database kinds piko can make a database per environment on. */
export const DATABASE_KINDS = ['postgres', 'mysql', 'none'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** A database name as both servers take it unquoted: letters, digits and `_`, at most 63. */
const databaseName = () => z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a database name of letters, digits and `_` (at most 63)'));

/** A compose service run once for the whole project; its environments join it. */
const sharedSchema = () =>
  z.strictObject({
    /** A database per environment on it: postgres or mysql (MariaDB too); none shares it as it is. Default: guessed from the image. */
    database: z.optional(z.enum(DATABASE_KINDS)),
    /** The database each environment's starts as a copy of (default: an empty one). */
    template: z.optional(databaseName()),
    /** Makes the template, once (`piko shared reseed` again), with PIKO_<SERVICE>_URL pointing at it. */
    seed: z.optional(z.string().check(z.minLength(1, 'a non-empty command'))),
    /** Variables set in every service of each environment to its own database's URL. */
    env: z.optional(z.union([envName(), z.array(envName())])),
  });

const envName = () => z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name such as DATABASE_URL'));

const buildConfigSchema = () =>
  z.strictObject({
    // An editor's pointer to piko.schema.json: a JSON config has no comment to say it in.
    $schema: z.optional(z.string()),
    scripts: z.optional(
      z.strictObject({
        prepare: z.optional(z.string()),
        setup: z.optional(z.string()),
        destroy: z.optional(z.string()),
        run: z.optional(z.string()),
      }),
    ),
    shells: z.optional(z.record(z.string(), z.string())),
    transport: z.optional(transportSchema()),
    server: z.optional(z.strictObject({ url: z.optional(z.url()) })),
    environments: z.optional(z.record(z.string(), z.strictObject({ transport: z.optional(transportSchema()) }))),
    stages: z.optional(z.array(stageSchema())),
    plugins: z.optional(z.array(nonEmpty())),
    /** Where worktrees go, relative to the repository: a folder, or a path template with `{env}` (and `{project}`). */
    worktrees: z.optional(
      z.string().check(
        z.regex(
          /^(?:[^{}]|\{(?:project|env)\})+$/,
          'a folder or a path template with no other {placeholder} than {project} and {env}, such as ../{project}-worktrees',
        ),
      ),
    ),
    /** Ignored files to copy into a new worktree (gitignore patterns), besides `.worktreeinclude`'s. */
    copy: z.optional(z.array(nonEmpty())),
    /** The compose file(s), relative to the repository root, read in order like `-f a -f b`. */
    compose: z.optional(z.union([nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))])),
    /** Compose services run once per project (`piko-<project>-shared`) instead of once per environment. */
    shared: z.optional(z.record(z.string().check(z.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a compose service name')), z.nullable(sharedSchema()))),
  });

let configSchema: ReturnType<typeof buildConfigSchema> | undefined;

/** The schema every config is validated with: ./schema.ts makes the JSON Schema from this very one. */
export const pikoConfigSchema = (): ReturnType<typeof buildConfigSchema> => (configSchema ??= buildConfigSchema());

/** What a compose service's shell is when `shells:` names none (`piko shell`, its tmux window). */
export const DEFAULT_SHELL = 'sh';

export type PikoConfig = z.infer<ReturnType<typeof buildConfigSchema>>;
export type StageConfig = z.infer<ReturnType<typeof stageSchema>>;
export type SharedConfig = z.infer<ReturnType<typeof sharedSchema>>;

export interface LoadedConfig {
  config: PikoConfig;
  /** The file it came from, or undefined when the project has none. */
  file: string | undefined;
}

/** The config's file name for messages (`.piko.yml`), or `config` when the project has none. */
export const configName = (loaded: LoadedConfig): string => (loaded.file ? basename(loaded.file) : 'config');

/**
 * cosmiconfig follows `$import` to other files, code among them: that would run what no
 * approval covers (see ./trust.ts), so a data config may not use it.
 */
function noImports(filepath: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$import' in value) {
    throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${basename(filepath)}: $import: not supported (put the settings in this file)`);
  }
  return value;
}

const loadYaml: Loader = (filepath, content) => {
  const { value, error } = parseYaml(content);
  if (error !== undefined) {
    throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${basename(filepath)}: not valid YAML: ${error}`);
  }
  return noImports(filepath, value);
};

const loadJson: Loader = async (filepath, content) => noImports(filepath, await defaultLoaders['.json'](filepath, content));

/** What knownKeys reads of a zod schema: its kind, and the schemas inside it. */
interface SchemaDef {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  innerType?: Schema;
}
type Schema = { _zod: { def: SchemaDef } };

/** The keys a mapping of the config may have, by where it is (read from the schema), for suggesting the one meant. */
function knownKeys(path: readonly PropertyKey[]): readonly string[] {
  const within = (schema: Schema | undefined): SchemaDef | undefined => {
    let def = schema?._zod.def;
    while (def?.type === 'optional') def = def.innerType?._zod.def;
    return def;
  };
  let def = within(configSchema as unknown as Schema);
  for (const key of path) {
    if (def?.type === 'object') def = within(def.shape?.[String(key)]);
    else if (def?.type === 'array') def = within(def.element);
    else if (def?.type === 'record') def = within(def.valueType);
    else return [];
  }
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** Validates a parsed config; throws PIKO_ERR_CONFIG_INVALID naming `file`, and every key wrong with what was expected. */
export function validateConfig(raw: unknown, file: string): PikoConfig {
  const result = pikoConfigSchema().safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = describeIssues(result.error, raw, knownKeys);
  throw new PikoError(
    'PIKO_ERR_CONFIG_INVALID',
    problems.length === 1 ? `${file}: ${problems[0]}` : `${file} has ${problems.length} problems:\n${problems.map((p) => `  ${file}: ${p}`).join('\n')}`,
  );
}

/** Finds and validates the project's configuration in `root` (not in its parents). */
export async function loadConfig(root: string): Promise<LoadedConfig> {
  const explorer = cosmiconfig('piko', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'none',
    cache: false,
    // The first file there is the config, even an empty one: ./trust.ts approves code by that rule.
    ignoreEmptySearchPlaces: false,
    loaders: { ...defaultLoaders, '.json': loadJson, '.yml': loadYaml, '.yaml': loadYaml, noExt: loadYaml },
  });
  let found;
  try {
    found = await explorer.search(root);
  } catch (err) {
    if (err instanceof PikoError) throw err;
    const file = (err as { filepath?: string }).filepath;
    throw new PikoError(
      'PIKO_ERR_CONFIG_INVALID',
      `${file ? basename(file) : 'configuration'}: could not be loaded (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  if (!found) return { config: {}, file: undefined };
  const name = basename(found.filepath);
  const shown = name === 'package.json' ? 'package.json#piko' : name;
  return { config: validateConfig(found.config, shown), file: found.filepath };
}
