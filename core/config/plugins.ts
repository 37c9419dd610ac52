// A team's own plugins: ES modules named in the config's `plugins:` (paths relative to the
// project root, and inside it) whose default export is a plugin object `{ name, apply(engine) }`. They go
// through exactly the engine the built-in plugins use.
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { configName, type LoadedConfig } from './config.js';
import type { PikoPlugin } from '../engine/engine.js';
import { PikoError } from '../errors.js';
import { pluginPath } from './trust.js';

function invalid(file: string, key: string, message: string, cause?: unknown): PikoError {
  return new PikoError('PIKO_ERR_CONFIG_INVALID', `${file}: ${key}: ${message}`, cause === undefined ? {} : { cause });
}

/** Loads every plugin the config names; a module that changed since it was last loaded is loaded anew. */
export async function loadPlugins(root: string, loaded: LoadedConfig): Promise<PikoPlugin[]> {
  const file = configName(loaded);
  const plugins: PikoPlugin[] = [];
  for (const [i, path] of (loaded.config.plugins ?? []).entries()) {
    const key = `plugins[${i}]`;
    const full = pluginPath(root, file, i, path);
    let module: { default?: unknown };
    try {
      // The modification time in the URL makes a long-running server pick up an edited plugin.
      module = (await import(`${pathToFileURL(full).href}?mtime=${statSync(full).mtimeMs}`)) as { default?: unknown };
    } catch (err) {
      throw invalid(file, key, `${full} could not be loaded: ${(err as Error).message.split('\n')[0]}`, err);
    }
    const plugin = module.default as Partial<PikoPlugin> | undefined;
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || typeof plugin.apply !== 'function') {
      throw invalid(file, key, `${full} must export default a plugin object { name: string, apply(engine) }`);
    }
    plugins.push(plugin as PikoPlugin);
  }
  return plugins;
}
