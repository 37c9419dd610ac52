// The compose model plain `docker compose up` would run, read from the worktree: the compose
// file (or the ones the config names, like `-f a -f b`), its override file, every `include:`d
// file and every service it `extends`, merged into one document. Relative paths from files in
// other folders are rewritten relative to the project folder (the first file's), so that the one
// file piko writes there means what the many did.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PikoError } from '../../core/errors.js';
import { COMPOSE_FILE_NAMES } from '../../core/paths.js';
import { mergeCompose, mergeService, resolveTags } from './merge.js';
import { rebaseFileEntry, rebaseService } from './rebase.js';
import { isMapping, MAX_ALIAS_COUNT, readComposeYaml } from './yaml.js';

type Mapping = Record<string, unknown>;

export type ComposeDocument = Mapping & { services?: Record<string, Mapping> };

/** The override files docker compose reads after the compose file when none is named. */
export const OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

export interface ComposeModel {
  /** Every file read, the project's own first, as shown to the user (relative to the worktree). */
  files: string[];
  /** The project folder: where compose runs, relative paths start and piko writes its file. */
  dir: string;
  doc: ComposeDocument;
}

export function composeError(message: string): PikoError {
  return new PikoError('PIKO_ERR_COMPOSE_INVALID', message, { stage: 'docker' });
}

/**
 * The compose files of a worktree: the config's `compose:` (one path or a list, relative to the
 * worktree, read in order like `-f`), or the first of COMPOSE_FILE_NAMES at its root followed by
 * its override file. Undefined when there is none (a simple environment).
 */
export function composeFiles(worktree: string, configured?: string | string[]): string[] | undefined {
  if (configured !== undefined) {
    const list = Array.isArray(configured) ? configured : [configured];
    return list.map((file, i) => {
      const path = resolve(worktree, file);
      if (!existsSync(path)) {
        const key = Array.isArray(configured) ? `compose[${i}]` : 'compose';
        throw new PikoError('PIKO_ERR_CONFIG_INVALID', `config key ${key}: ${file} does not exist in the worktree ${worktree}`, { stage: 'docker' });
      }
      return path;
    });
  }
  const main = COMPOSE_FILE_NAMES.find((name) => existsSync(join(worktree, name)));
  if (main === undefined) return undefined;
  const override = OVERRIDE_FILE_NAMES.find((name) => existsSync(join(worktree, name)));
  return [join(worktree, main), ...(override ? [join(worktree, override)] : [])];
}

/** Reads one compose file; every problem names the file. */
export function readComposeFile(path: string, shown: string): ComposeDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw composeError(`${shown}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseComposeText(text, shown);
}

/** Parses the text of a compose file named `shown` (tags kept for the merge); every problem names it. */
export function parseComposeText(text: string, shown: string): ComposeDocument {
  const { value, error } = readComposeYaml(text);
  if (error !== undefined) {
    const hint = /alias/i.test(error) ? ` (piko expands at most ${MAX_ALIAS_COUNT} aliases)` : '';
    throw composeError(`${shown}: not valid YAML: ${error}${hint}`);
  }
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) throw composeError(`${shown}: expected a mapping with \`services:\` at the top`);
  if (value.services !== undefined && value.services !== null && !isMapping(value.services)) {
    throw composeError(`${shown}: \`services:\` must be a mapping of service names`);
  }
  for (const [name, service] of Object.entries((value.services ?? {}) as Mapping)) {
    if (service !== null && !isMapping(service)) throw composeError(`${shown}: services.${name} must be a mapping`);
  }
  return value as ComposeDocument;
}

/** One file being read: where it is, how it is shown, and its folder for relative paths. */
interface Source {
  path: string;
  shown: string;
  dir: string;
}

class Loader {
  private readonly cache = new Map<string, ComposeDocument>();

  constructor(private readonly worktree: string) {}

  show(path: string): string {
    const rel = relative(this.worktree, path);
    return rel.startsWith('..') ? path : rel;
  }

  read(path: string): ComposeDocument {
    let doc = this.cache.get(path);
    if (!doc) {
      doc = readComposeFile(path, this.show(path));
      this.cache.set(path, doc);
    }
    return doc;
  }

  /**
   * Files read as one project (`-f` semantics: relative paths from `dir`), with their includes
   * and extends resolved. `seen` holds the include chain, to refuse a cycle.
   */
  project(paths: string[], dir: string, seen: string[]): { doc: ComposeDocument; files: string[] } {
    const files: string[] = [];
    let merged: Mapping = {};
    for (const path of paths) {
      const source = { path, shown: this.show(path), dir };
      const { doc, files: included } = this.withIncludes(this.read(path), source, seen);
      files.push(source.shown, ...included);
      merged = mergeCompose(merged, doc);
    }
    const services = (merged.services ?? {}) as Record<string, Mapping>;
    const resolved: Record<string, Mapping> = {};
    const first = { path: paths[0]!, shown: this.show(paths[0]!), dir };
    for (const name of Object.keys(services)) {
      resolved[name] = this.extended(services, name, first, [], files);
    }
    if (merged.services !== undefined) merged.services = resolved;
    return { doc: merged as ComposeDocument, files };
  }

  /** `include:`: each entry is a project of its own, its resources added to this file's. */
  private withIncludes(doc: ComposeDocument, source: Source, seen: string[]): { doc: ComposeDocument; files: string[] } {
    const include = doc.include;
    if (include === undefined || include === null) return { doc, files: [] };
    if (!Array.isArray(include)) throw composeError(`${source.shown}: include must be a list`);
    const { include: _, ...rest } = doc;
    const out: Mapping = { ...rest };
    const files: string[] = [];
    include.forEach((entry, i) => {
      const where = `${source.shown}: include[${i}]`;
      const spec = typeof entry === 'string' ? { path: entry } : isMapping(entry) ? entry : undefined;
      const paths = spec && (typeof spec.path === 'string' ? [spec.path] : Array.isArray(spec.path) ? spec.path : undefined);
      if (!spec || !paths || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
        throw composeError(`${where}: expected a path, or a mapping with \`path\``);
      }
      const absolute = (paths as string[]).map((p) => resolve(source.dir, p));
      for (const path of absolute) {
        if (!existsSync(path)) throw composeError(`${where}: ${this.show(path)} does not exist`);
        if (seen.includes(path) || path === source.path) throw composeError(`${where}: ${this.show(path)} includes itself`);
      }
      const dir = typeof spec.project_directory === 'string' ? resolve(source.dir, spec.project_directory) : dirname(absolute[0]!);
      const included = this.project(absolute, dir, [...seen, source.path]);
      files.push(...included.files);
      for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs']) {
        const theirs = included.doc[section];
        if (!isMapping(theirs)) continue;
        const ours = (isMapping(out[section]) ? out[section] : {}) as Mapping;
        for (const [name, value] of Object.entries(theirs)) {
          const moved = section === 'services' ? rebaseService((value ?? {}) as Mapping, dir, source.dir) : rebaseFileEntry(value, dir, source.dir);
          if (name in ours && JSON.stringify(ours[name]) !== JSON.stringify(moved)) {
            throw composeError(`${source.shown}: ${section}.${name} is defined here and in the included ${this.show(absolute[0]!)}; rename one`);
          }
          ours[name] = moved;
        }
        out[section] = ours;
      }
    });
    return { doc: out as ComposeDocument, files };
  }

  /** Service `name` of `services` (read from `source`) with its `extends` chain merged in. */
  private extended(services: Record<string, Mapping>, name: string, source: Source, chain: string[], files: string[]): Mapping {
    const service = (services[name] ?? {}) as Mapping;
    const spec = service.extends;
    if (spec === undefined || spec === null) return service;
    const where = `${source.shown}: services.${name}.extends`;
    const target = typeof spec === 'string' ? { service: spec } : isMapping(spec) ? spec : undefined;
    if (!target || typeof target.service !== 'string') throw composeError(`${where}: expected a service name, or a mapping with \`service\``);
    const link = `${source.path}#${name}`;
    if (chain.includes(link)) throw composeError(`${where}: ${target.service} extends ${name} in turn (a cycle)`);
    let base: Mapping;
    if (typeof target.file === 'string') {
      const path = resolve(source.dir, target.file);
      if (!existsSync(path)) throw composeError(`${where}: ${this.show(path)} does not exist`);
      const other = this.read(path);
      const theirs = (other.services ?? {}) as Record<string, Mapping>;
      if (!(target.service in theirs)) throw composeError(`${where}: ${this.show(path)} has no service ${target.service}`);
      if (!files.includes(this.show(path))) files.push(this.show(path));
      const from = { path, shown: this.show(path), dir: dirname(path) };
      base = rebaseService(this.extended(theirs, target.service, from, [...chain, link], files), from.dir, source.dir);
    } else {
      if (!(target.service in services)) throw composeError(`${where}: there is no service ${target.service} to extend`);
      base = this.extended(services, target.service, source, [...chain, link], files);
    }
    const { extends: _, ...own } = service;
    return mergeService(base, own);
  }
}

/**
 * The merged model of `files` (absolute, in `-f` order) in a worktree. Every error names the
 * file it is about.
 */
export function loadCompose(worktree: string, files: string[]): ComposeModel {
  const dir = dirname(files[0]!);
  const loader = new Loader(worktree);
  const { doc, files: read } = loader.project(files, dir, []);
  return { files: [...new Set(read)], dir, doc: resolveTags(doc) as ComposeDocument };
}
