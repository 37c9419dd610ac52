// Project configs read once and kept until their file changes: the server reads a project's
// config for every request, and must not parse and validate it each time.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_SEARCH_PLACES, loadConfig, type LoadedConfig } from './config.js';

/** What identifies the config files of `root` as they are now: which exist, their times and sizes. */
function stamp(root: string): string {
  return CONFIG_SEARCH_PLACES.map((name) => {
    const stat = statSync(join(root, name), { throwIfNoEntry: false });
    return stat ? `${name}:${stat.mtimeMs}:${stat.size}` : '';
  }).join('|');
}

export class ConfigCache {
  private readonly entries = new Map<string, { stamp: string; loaded: Promise<LoadedConfig> }>();

  /** The config of the project at `root`: read again only when one of its files changed. */
  read(root: string): Promise<LoadedConfig> {
    const now = stamp(root);
    const hit = this.entries.get(root);
    if (hit?.stamp === now) return hit.loaded;
    const loaded = loadConfig(root);
    this.entries.set(root, { stamp: now, loaded });
    // A config that cannot be read is read again next time (the error says what to fix).
    loaded.catch(() => this.entries.delete(root));
    return loaded;
  }
}
