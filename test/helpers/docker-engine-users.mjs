// Where the test runs that use the Docker engine keep their marks: the folder .ci/engine-up
// keeps the daemon's pid in.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const engineDir = process.env.PIKO_ENGINE_DIR ?? '/tmp/piko-engine';
