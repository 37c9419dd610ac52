// Jest's global teardown: stops the Docker engine if this run started it (see docker-engine-setup.mjs).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function teardown() {
  if (!globalThis.pikoStartedEngine) return;
  spawnSync('sh', [join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.ci', 'engine-down')], { stdio: 'ignore' });
}
