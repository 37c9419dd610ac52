// Builds the `piko` command into a few CommonJS files, side by side in dist/bin/: the entry
// (piko.js, which answers `--version` itself), the argument parser (program.js: every command's
// options, all `--help` needs), and one file for each module a boundary file loads with
// `import()`: each command, and the full way of running an operation. A command reads two or
// three files instead of hundreds of modules, and only what it uses. CommonJS, because Node then
// starts the program without its ES module loader (a tenth of `piko list`, measured).
//
// Each file holds its own copy of what it shares with the others: only plain data and errors
// cross between them (the error classes are recognised across copies, see core/errors.ts).
// Dynamic imports inside a file are bundled into it and run when first reached.
// dist/bin/meta.json says which sources each file holds.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

/**
 * The boundaries between the built files: which of a file's `import()`s load another built
 * file. The entry's is the argument parser, the parser's (cli/parser/) are the commands;
 * operate.ts's is the full way of running an operation (config, engine, stages), which a client
 * of a running server never needs.
 */
const BOUNDARIES = new Map([
  [resolve('cli/piko.ts'), /./],
  [resolve('cli/program.ts'), /./],
  ...readdirSync('cli/parser').map((file) => [resolve('cli/parser', file), /./]),
  [resolve('cli/delivery/operate.ts'), /^\.\/configured\.js$/],
]);

const common = {
  outdir: 'dist/bin',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // ws loads these optional speed-ups when they are installed, and cosmiconfig typescript for a
  // piko.config.ts. better-sqlite3 is bundled; its addon is loaded from its own folder.
  external: ['bufferutil', 'utf-8-validate', 'typescript'],
  // The sources are ES modules: `import.meta.url` is the built file's URL. `__load`: see below.
  define: { 'import.meta.url': '__pikoFileUrl' },
  banner: {
    js: [
      "var __pikoFileUrl = require('node:url').pathToFileURL(__filename).href;",
      // (`import (t)`, with its space, is left as it is below: where no entry set the importer.)
      "var __load = (s) => (globalThis[Symbol.for('piko.import')] ?? ((t) => import (t)))(s);",
    ].join(' '),
  },
  metafile: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
};

/**
 * Source file → the name of the file it is built into: dist/bin/<name>.js, every one in the same
 * folder (a module is bundled into every file that uses it, so the path of another file cannot
 * depend on where the importing module's own file is): cli/commands/list.ts → commands-list.js.
 */
const separate = new Map([[resolve('cli/piko.ts'), 'piko']]);

/**
 * An `import()` across a boundary becomes a `require()` of the other built file (an `import()`
 * left as it is would start Node's ES module loader, for a CommonJS file).
 */
const boundaries = {
  name: 'boundaries',
  setup(on) {
    on.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import' || !BOUNDARIES.get(args.importer)?.test(args.path)) return undefined;
      const source = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      const name = relative(resolve('cli'), source).replace(/\.ts$/, '').replaceAll(sep, '-');
      separate.set(source, name);
      return { path: `./${name}.js`, namespace: 'boundary' };
    });
    on.onLoad({ filter: /./, namespace: 'boundary' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    on.onResolve({ filter: /./, namespace: 'boundary' }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * Node modules that are loaded when first used rather than when a file that imports them starts:
 * commander imports child_process for subcommands that are programs of their own (piko has
 * none), ws imports zlib for compression (piko's client turns it off) and https and tls for
 * wss:// addresses, and a client that never attaches to tmux never spawns anything. Each is
 * loaded by the first access to one of its exports, so nothing changes for code that uses it.
 */
const LAZY_BUILTINS = ['child_process', 'zlib', 'https', 'tls'];
const require = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(on) {
    on.onResolve({ filter: new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`) }, (args) =>
      args.namespace === 'lazy' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy' },
    );
    // Its exports, each a getter: an importer's view of them (esbuild copies them one by one
    // for an `import { … }`) then loads nothing until one is used.
    on.onLoad({ filter: /./, namespace: 'lazy' }, (args) => ({
      contents: [
        `let loaded;`,
        `const load = () => (loaded ??= require('node:${args.path}'));`,
        `for (const key of ${JSON.stringify(Object.keys(require(`node:${args.path}`)))}) {`,
        `  Object.defineProperty(module.exports, key, { enumerable: true, get: () => load()[key] });`,
        `}`,
      ].join('\n'),
      loader: 'js',
    }));
  },
};

// Files of an earlier build would otherwise be left behind.
rmSync('dist/bin', { recursive: true, force: true });

const outputs = {};
const built = new Set();
let entries = { piko: 'cli/piko.ts', demo: 'cli/demo.ts' };
while (Object.keys(entries).length > 0) {
  const result = await build({ ...common, entryPoints: entries, plugins: [boundaries, lazyBuiltins] });
  Object.assign(outputs, result.metafile.outputs);
  for (const name of Object.keys(entries)) built.add(name);
  entries = Object.fromEntries([...separate].filter(([, name]) => !built.has(name)).map(([source, name]) => [name, source]));
}
// On Node 20, code compiled through `vm.Script` cannot make an `import()` (see
// compile-cache.ts), and piko compiles its built files that way, with V8's cache. So in every
// file but the entry (which Node compiles itself), each `import(` (a plugin, a code config)
// becomes `__load(`, which hands the specifier to the entry's own import: the same length, so
// the source maps still fit.
for (const file of Object.keys(outputs).filter((file) => file.endsWith('.js') && file !== 'dist/bin/piko.js')) {
  const text = readFileSync(file, 'utf8');
  if (text.includes('__load(')) throw new Error(`${file} already calls a __load of its own`);
  writeFileSync(file, text.replace(/(?<![\w$.])import\(/g, '__load('));
}
// The sources are ES modules; these files are not.
writeFileSync('dist/bin/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);

// The config file's JSON Schema, for editors, shipped beside the command: made by the same code
// `piko config schema` runs, from the zod schema configs are validated with, so it cannot say
// otherwise. Built from the sources (not tsc's output, which may be older when this runs alone).
// Written outside dist/bin (which ships) and beside node_modules, where its imports resolve.
const generator = resolve('dist/schema-generator.mjs');
await build({ entryPoints: ['core/config/schema.ts'], outfile: generator, bundle: true, packages: 'external', format: 'esm', platform: 'node', logLevel: 'warning' });
let made;
try {
  made = await import(pathToFileURL(generator).href);
} finally {
  rmSync(generator);
}
const { configJsonSchemaText, SCHEMA_FILE } = made;
writeFileSync(`dist/bin/${SCHEMA_FILE}`, configJsonSchemaText());
writeFileSync('dist/bin/meta.json', JSON.stringify({ outputs }));

// The dashboard page (cli/ui), for browsers: its TypeScript is a project of its own (the DOM's
// types, not Node's), checked here since `tsc -p .` leaves it out; then bundled and minified into
// dist/bin/ui/ (index.html, app.js, app.css), which `piko server` serves. Nothing of it is fetched
// from anywhere else, and nothing in it is inline: the page's CSP allows only its own files.
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'cli/ui'], { stdio: 'inherit' });
/**
 * picocolors' browser build has no colours at all (every function returns its text), and the
 * page renders with `color: true` to turn the colours into spans. Its Node build only reads
 * `process` to guess a default the renderer never asks for (see `define`).
 */
const colouredPicocolors = {
  name: 'coloured-picocolors',
  setup(on) {
    on.onResolve({ filter: /^picocolors$/ }, () => ({ path: require.resolve('picocolors') }));
  },
};
await build({
  entryPoints: [
    { in: 'cli/ui/page/main.ts', out: 'app' },
    { in: 'cli/ui/app.css', out: 'app' },
  ],
  outdir: 'dist/bin/ui',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120', 'firefox121', 'safari17'],
  define: { process: 'globalThis.process' },
  plugins: [colouredPicocolors],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const page = readFileSync('cli/ui/index.html', 'utf8');
// What the CSP would block in the browser fails the build here instead.
const inline = /<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle=|\son[a-z]+=|javascript:|(?:src|href)=["']?(?:https?:)?\/\//i.exec(page);
if (inline) throw new Error(`cli/ui/index.html: ${inline[0]} (the page's CSP allows no inline script or style, nor anything from elsewhere)`);
writeFileSync('dist/bin/ui/index.html', page);
