#!/usr/bin/env node
// The `piko` command. `piko --version` and a shell completion's `piko __complete` are answered
// here, before the argument parser is loaded; every other command line goes to the argument
// parser (./program.ts), its files compiled with the cache of earlier runs.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pikoHome } from '../core/paths.js';
import { useCompileCache } from './compile-cache.js';
import { print } from './terminal/print.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

// The built files' `import()`s come here (the build makes each a `__load`): code compiled through
// `vm.Script` with V8's cache, as they are, cannot make one on Node 20; this file Node compiles.
(globalThis as Record<symbol, unknown>)[Symbol.for('piko.import')] = (specifier: string) => import(specifier);

if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  print(`${version}\n`);
} else if (process.argv[2] === '__complete') {
  // A shell's completion asking for names (cli/complete.ts), on every Tab: without the parser.
  void import('./complete.js').then(({ complete }) => complete(process.argv.slice(3)));
} else {
  useCompileCache(dirname(fileURLToPath(import.meta.url)), pikoHome());
  void import('./program.js').then(({ run }) => run(version));
}
