// `piko __complete <kind> [word]`: the names a shell's completion offers, one a line. The shell
// waits for it on every Tab, so cli/piko.ts hands it here before the argument parser loads, and
// it reads $PIKO_HOME/state.db read-only (never making it, nor PIKO_HOME) and, for branches,
// asks git. Whatever goes wrong prints nothing: an error has no place in a line being typed.
//
//   envs [typed]          environments: bare in the project you stand in, project/env for the
//                         others (all as project/env once what is typed holds a `/`)
//   project-envs [name]   bare names in the project a create's `name` means (`--from`)
//   projects              project names
//   branches [name]       branches and tags of the repository a create's `name` means
//   services <env>        the compose services of an environment, from its compose file
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { splitName } from '../core/environment/names.js';
import { isWithin, pikoHome, stateDbPath } from '../core/paths.js';
import { print } from './terminal/print.js';

interface Known {
  projects: { name: string; root: string }[];
  environments: { project: string; name: string; path: string; composeFile: string | null }[];
}

/** What the state database knows, or nothing when there is none (or it cannot be read). */
function readState(): Known {
  let db: Database.Database;
  try {
    // Named, like core/state/open.ts does: otherwise better-sqlite3 searches for its addon.
    const nativeBinding = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    // A Tab waits for this: a database locked for longer than a moment gets no names.
    db = new Database(stateDbPath(pikoHome()), { readonly: true, fileMustExist: true, nativeBinding, timeout: 500 });
  } catch {
    return { projects: [], environments: [] };
  }
  try {
    return {
      projects: db.prepare('SELECT name, root FROM projects ORDER BY name').all() as Known['projects'],
      environments: db
        .prepare(
          `SELECT p.name AS project, e.name, e.path, e.compose_file AS composeFile
           FROM environments e JOIN projects p ON p.id = e.project_id ORDER BY p.name, e.name`,
        )
        .all() as Known['environments'],
    };
  } catch {
    return { projects: [], environments: [] };
  } finally {
    db.close();
  }
}

/** The project you stand in: its repository or one of its worktrees, the deepest (as core/state/resolve.ts). */
function standingIn(known: Known): string | undefined {
  let here: string;
  try {
    here = realpathSync(process.cwd());
  } catch {
    return undefined;
  }
  const places = [
    ...known.projects.map((p) => ({ path: p.root, project: p.name })),
    ...known.environments.map((e) => ({ path: e.path, project: e.project })),
  ];
  return places.filter((place) => isWithin(here, place.path)).sort((a, b) => b.path.length - a.path.length)[0]?.project;
}

/** The project a create's name means: the one it names, else the one you stand in, else the only one. */
function createProject(known: Known, name: string | undefined): { name: string; root: string } | undefined {
  const named = name === undefined ? undefined : splitName(name).project;
  const project = named ?? standingIn(known) ?? (known.projects.length === 1 ? known.projects[0]!.name : undefined);
  return known.projects.find((p) => p.name === project);
}

function environments(typed: string): string[] {
  const known = readState();
  const all = known.environments.map((e) => `${e.project}/${e.name}`);
  const here = typed.includes('/') ? undefined : standingIn(known);
  if (here === undefined) return all;
  const own = known.environments.filter((e) => e.project === here);
  return [...own.map((e) => e.name), ...known.environments.filter((e) => e.project !== here).map((e) => `${e.project}/${e.name}`)];
}

function branches(name: string | undefined): string[] {
  const refs = (cwd: string) => {
    // Remote HEADs (`origin/HEAD`) point at another ref listed already.
    const format = '--format=%(if)%(symref)%(then)%(else)%(refname:short)%(end)';
    const git = spawnSync('git', ['for-each-ref', format, 'refs/heads', 'refs/remotes', 'refs/tags'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return git.status === 0 ? git.stdout.split('\n').filter(Boolean) : undefined;
  };
  // The repository you stand in needs no state, unless the create names another project.
  if (name === undefined || splitName(name).project === undefined) {
    const here = refs(process.cwd());
    if (here) return here;
  }
  const project = createProject(readState(), name);
  return (project && refs(project.root)) ?? [];
}

/** The environment `name` means, as core/state/resolve.ts finds it. */
function environment(known: Known, name: string): Known['environments'][number] | undefined {
  const { project, environment } = splitName(name);
  if (project !== undefined) return known.environments.find((e) => e.project === project && e.name === environment);
  const here = standingIn(known);
  const own = here === undefined ? undefined : known.environments.find((e) => e.project === here && e.name === environment);
  if (own || here !== undefined) return own;
  const matches = known.environments.filter((e) => e.name === environment);
  return matches.length === 1 ? matches[0] : undefined;
}

function services(name: string | undefined): string[] {
  if (!name) return [];
  const file = environment(readState(), name)?.composeFile;
  if (!file) return [];
  try {
    return composeServices(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

const unquote = (key: string): string =>
  key.startsWith('"') ? (JSON.parse(key) as string) : key.startsWith("'") ? key.slice(1, -1).replaceAll("''", "'") : key;

/**
 * The keys of the top-level `services:` mapping. piko writes docker-compose.piko.yml in block
 * style (stages/docker/yaml.ts), so a scan of its lines is enough, and far cheaper to load than
 * a YAML parser; a file in any other shape gets no names rather than wrong ones.
 */
export function composeServices(text: string): string[] {
  const names: string[] = [];
  let inside = false;
  let indent: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const lead = /^ */.exec(line)![0].length;
    if (lead === 0) {
      if (inside) break;
      inside = /^(services|"services"|'services')\s*:\s*(#.*)?$/.test(line);
      continue;
    }
    if (!inside) continue;
    indent ??= lead;
    if (lead !== indent) continue;
    const key = /^ +("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#:][^:#]*?)\s*:(?:\s|$)/.exec(line);
    if (!key) return [];
    names.push(unquote(key[1]!));
  }
  return names;
}

export function complete(args: string[]): void {
  const [kind, word] = args;
  let names: string[] = [];
  try {
    if (kind === 'envs') names = environments(word ?? '');
    else if (kind === 'project-envs') {
      const known = readState();
      const project = createProject(known, word)?.name;
      names = known.environments.filter((e) => e.project === project).map((e) => e.name);
    } else if (kind === 'projects') names = readState().projects.map((p) => p.name);
    else if (kind === 'branches') names = branches(word || undefined);
    else if (kind === 'services') names = services(word);
  } catch {
    names = [];
  }
  if (names.length > 0) print(`${names.join('\n')}\n`);
}
