// V8's compiled code for piko's own built files, kept in $PIKO_HOME/cache between runs: a
// command's files are then read, not parsed and compiled again. Node 22 does this itself
// (`module.enableCompileCache`); on Node 20 the files of dist/bin are compiled here with V8's
// cache, the rest as Node would. Code compiled through `vm.Script` cannot call `import()` on
// Node 20 (a plugin, a code config) without an experimental option that prints a warning: the
// build hands each to the entry's (see cli/bundle.mjs).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

interface CompilingModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

/**
 * Uses (and fills) the cache for the files in `bin` loaded from now on. Only where PIKO_HOME
 * exists already: `piko --help` on a fresh machine makes nothing. A cache that does not fit the
 * file or this Node (V8 checks) is ignored and made again.
 */
export function useCompileCache(bin: string, home: string): void {
  const dir = join(home, 'cache', `v8-${process.version}-${process.arch}`);
  try {
    statSync(home);
  } catch {
    return;
  }
  const node22 = (nodeModule as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (node22) {
    node22(dir);
    return;
  }
  // Where stack traces are mapped through source maps (which this way would skip), Node compiles them.
  if (process.sourceMapsEnabled) return;
  const prototype = (nodeModule.Module as unknown as { prototype: CompilingModule }).prototype;
  const compile = prototype._compile;
  const made: { file: string; script: Script }[] = [];
  prototype._compile = function (this: CompilingModule, content: string, filename: string): unknown {
    if (dirname(filename) !== bin) return compile.call(this, content, filename);
    const { size, mtimeMs } = statSync(filename);
    const file = join(dir, `${basename(filename)}-${size}-${Math.trunc(mtimeMs)}`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      // Not made yet.
    }
    const script = new Script(nodeModule.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) made.push({ file, script });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, nodeModule.createRequire(filename), this, filename, dirname(filename));
  };
  // At the end, so that what the command compiled on its way is in the cache too.
  process.once('exit', () => {
    for (const { file, script } of made) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // The cache of an earlier build of the same file goes.
        const earlier = `${basename(file).replace(/-\d+-\d+$/, '')}-`;
        for (const old of readdirSync(dir)) if (old.startsWith(earlier)) rmSync(join(dir, old), { force: true });
        writeFileSync(`${file}.${process.pid}`, script.createCachedData());
        renameSync(`${file}.${process.pid}`, file);
      } catch {
        // A cache is a nicety: the next run compiles again.
      }
    }
  });
}
