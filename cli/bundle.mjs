// Builds the `piko` command into a few bundled files (dist/bin/): one entry that parses the
// arguments, and lazy chunks along the command boundaries, so a command loads only what it
// uses, in a handful of files instead of hundreds of modules. better-sqlite3 stays outside
// (a native addon); the rest of the dependencies are bundled. dist/bin/meta.json says which
// sources each file holds (a test checks what `--version` and `--help` load).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunks are named by their content's hash: the last build's would otherwise pile up.
rmSync('dist/bin', { recursive: true, force: true });

await build({
  entryPoints: { piko: 'cli/piko.ts', demo: 'cli/demo.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ws loads these optional speed-ups when they are installed, and cosmiconfig typescript for a
  // piko.config.ts: none of them is needed otherwise.
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate', 'typescript'],
  // Bundled CommonJS packages still call require() for Node's own modules.
  banner: { js: "import { createRequire as __pikoRequire } from 'node:module'; const require = __pikoRequire(import.meta.url);" },
  chunkNames: '[name]-[hash]',
  metafile: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
}).then(async (result) => {
  const { writeFile } = await import('node:fs/promises');
  await writeFile('dist/bin/meta.json', JSON.stringify(result.metafile));
});
