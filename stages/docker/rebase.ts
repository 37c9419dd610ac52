// Relative paths in compose files read from another folder (an `include:`d file, the file a
// service `extends`) moved so that they mean the same from the project folder.
import { isAbsolute, relative, resolve } from 'node:path';
import { isMapping } from './yaml.js';

type Mapping = Record<string, unknown>;

/** Whether a path in a compose file is relative to the project folder (not absolute, `~`, a URL or a variable). */
const isRelativePath = (path: string): boolean =>
  !isAbsolute(path) && !path.startsWith('~') && !path.startsWith('$') && !/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith('git@');

function rebasePath(path: string, from: string, to: string): string {
  if (!isRelativePath(path)) return path;
  const moved = relative(to, resolve(from, path)) || '.';
  return moved.startsWith('..') ? moved : `./${moved}`;
}

/** A service's relative paths (build context, bind mounts, env files), moved from folder `from` to `to`. */
export function rebaseService(service: Mapping, from: string, to: string): Mapping {
  if (from === to) return service;
  const out = { ...service };
  const move = (path: unknown) => (typeof path === 'string' ? rebasePath(path, from, to) : path);
  if (typeof out.build === 'string') out.build = move(out.build);
  else if (isMapping(out.build)) out.build = { ...out.build, ...(out.build.context === undefined ? { context: move('.') } : { context: move(out.build.context) }) };
  for (const key of ['env_file', 'label_file']) {
    const value = out[key];
    if (typeof value === 'string') out[key] = move(value);
    else if (Array.isArray(value)) out[key] = value.map((entry) => (isMapping(entry) ? { ...entry, path: move(entry.path) } : move(entry)));
  }
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((entry) => {
      if (typeof entry === 'string') {
        // Only sources that start with `.` are paths in the short syntax; others name a volume.
        const [source, ...rest] = entry.split(':');
        return rest.length > 0 && source!.startsWith('.') ? [move(source), ...rest].join(':') : entry;
      }
      if (isMapping(entry) && entry.type === 'bind') return { ...entry, source: move(entry.source) };
      return entry;
    });
  }
  if (isMapping(out.extends) && typeof out.extends.file === 'string') out.extends = { ...out.extends, file: move(out.extends.file) };
  return out;
}

/** `secrets.x.file`, `configs.x.file` of an included file, relative to the including project. */
export function rebaseFileEntry(value: unknown, from: string, to: string): unknown {
  if (!isMapping(value) || typeof value.file !== 'string' || from === to) return value;
  return { ...value, file: rebasePath(value.file, from, to) };
}
