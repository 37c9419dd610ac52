// The JSON Schema of the config file, for editors (completion, hover text, squiggles): made from
// the very zod schema piko validates with, never written by hand. `npm run build` writes it to
// dist/bin/piko.schema.json, `piko config schema` prints it, and a test checks the two agree.
// The descriptions live here rather than on the zod schema, so loading a config costs nothing
// more for them.
import * as z from 'zod/mini';
import { DEFAULT_SHELL, pikoConfigSchema } from './config.js';
import { DEFAULT_WORKTREES } from '../paths.js';
import { DEFAULT_TRANSPORT } from './transport.js';

/** Its name beside the built command (dist/bin/), in the package as installed. */
export const SCHEMA_FILE = 'piko.schema.json';

/**
 * What each key is for, by its path (`*`: any key of a mapping, `[]`: any item of a list).
 * A path the schema does not have is an error when the schema is made, so a key renamed in
 * config.ts cannot leave its description behind unseen.
 */
const DESCRIPTIONS: Record<string, string> = {
  '': "piko's project configuration (.piko.yml and friends): what an environment of this repository runs and where its files go.",
  $schema: 'The JSON Schema this file follows, for editors; piko ignores it.',
  scripts: "Shell commands piko runs with `sh -c` in the environment's worktree, with every PIKO_* variable.",
  'scripts.prepare': 'Runs on create after the worktree is made and the ignored files copied, before the containers start (e.g. cp .env.example .env).',
  'scripts.setup': 'Runs on create once the containers are up (e.g. npm install).',
  'scripts.destroy': 'Runs first on destroy.',
  'scripts.run': "What `piko run <env>` runs in the environment's worktree.",
  shells: `The command \`piko shell\` and the tmux window run in each compose service, by service name (default: ${DEFAULT_SHELL}).`,
  'shells.*': "The service's shell command.",
  transport: "How operations reach you: websocket or sse (through `piko server` when one runs, else here), stdout (always here), or one a plugin adds. --transport and PIKO_TRANSPORT come first; an `environments:` entry that matches comes before this.",
  server: 'Where the client looks for `piko server`.',
  'server.url': "The server's URL (PIKO_SERVER_URL comes first; without either, the server $PIKO_HOME/server.json names).",
  environments: 'Settings for the environments whose name matches a glob (`*` any run of characters, `?` one); the first glob that matches applies.',
  'environments.*': 'The settings of the environments this glob matches.',
  'environments.*.transport': 'Their transport, before the top-level `transport:`.',
  stages: 'Stages of your own, run on create with `sh -c` in the worktree like the scripts; after setup unless `before`/`after` places them.',
  'stages[]': 'One stage.',
  'stages[].name': 'Its name: output shows as [<name>], other stages may name it in before/after.',
  'stages[].run': 'The shell command.',
  'stages[].before': 'Run just before this stage: a built-in one (git, copy, prepare, docker, setup…) or one of yours.',
  'stages[].after': 'Run just after this stage: a built-in one (git, copy, prepare, docker, setup…) or one of yours.',
  'stages[].env': 'Variables for the command, besides the PIKO_* ones.',
  'stages[].timeout': 'Seconds it may run before it is killed with its whole process group.',
  'stages[].optional': 'true: a failure is a warning and the create goes on, with no rollback.',
  plugins: 'ES modules whose default export is a plugin { name, apply(engine) }: paths relative to the repository root, and inside it.',
  'plugins[]': 'A plugin module.',
  worktrees: 'Where worktrees go, relative to the repository: a folder that gets one per environment, or a path template with {env} (and {project}); a leading ~ is your home folder.',
  copy: "Ignored files to copy into a new worktree (gitignore patterns), besides `.worktreeinclude`'s.",
  'copy[]': 'A gitignore pattern.',
  compose: 'The compose file(s), relative to the repository root, read in order like `-f a -f b` (default: the compose file at the root and its override file).',
  shared: 'Compose services run once per project (piko-<project>-shared) instead of once per environment, by service name.',
  'shared.*': 'How the service is shared (empty: guessed from its image).',
  'shared.*.database': 'A database per environment on it: postgres or mysql (MariaDB too); none shares it as it is. Default: guessed from the image.',
  'shared.*.template': "The database each environment's starts as a copy of (default: an empty one).",
  'shared.*.seed': 'Makes the template, once (`piko shared reseed` makes it again), with PIKO_<SERVICE>_URL pointing at it.',
  'shared.*.env': "Variables set in every service of each environment to its own database's URL.",
};

/** Defaults where they are defined, for editors that offer them. */
const defaults = (): Record<string, unknown> => ({
  transport: DEFAULT_TRANSPORT,
  worktrees: DEFAULT_WORKTREES,
  'shells.*': DEFAULT_SHELL,
});

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};

/** Puts each key's description (and default) on it; returns the paths it met. */
function annotate(node: JsonSchema, path: string, values: Record<string, unknown>, met: Set<string>, here = true): void {
  if (here) {
    met.add(path);
    const text = DESCRIPTIONS[path];
    if (text !== undefined) node.description = text;
    if (path in values) node.default = values[path];
  }
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  for (const [key, child] of Object.entries(node.properties ?? {})) annotate(child, at(key), values, met);
  if (typeof node.additionalProperties === 'object') annotate(node.additionalProperties, at('*'), values, met);
  if (node.items) annotate(node.items, `${path}[]`, values, met);
  // A union's branches are the same key: what is inside them is described, not they.
  for (const branch of node.anyOf ?? []) annotate(branch, path, values, met, false);
}

/** The JSON Schema (draft-07, which editors support best) of a config file. */
export function configJsonSchema(): Record<string, unknown> {
  // `input`: what may be written in the file (the same as what is read: the schema transforms nothing).
  const generated = z.toJSONSchema(pikoConfigSchema(), { target: 'draft-07', io: 'input' }) as JsonSchema;
  const { $schema, ...rest } = generated;
  const values = defaults();
  const met = new Set<string>();
  annotate(rest, '', values, met);
  const unknown = [...Object.keys(DESCRIPTIONS), ...Object.keys(values)].filter((path) => !met.has(path));
  if (unknown.length > 0) throw new Error(`core/config/schema.ts describes keys the config schema does not have: ${unknown.join(', ')}`);
  const { description, ...body } = rest;
  return {
    $schema,
    // Not a URL: piko is not published anywhere a URL could promise. Editors take the file by path.
    $id: `urn:piko:${SCHEMA_FILE}`,
    title: 'piko configuration',
    description,
    ...body,
  };
}

/** The schema as the file ships it. */
export const configJsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
