// The global setup of jest's `engine` project: a real Docker engine for the tests that need one,
// from the project's own script (.ci/engine-up: idempotent; it installs and starts Debian's
// engine where it can). The outcome reaches every test worker as PIKO_TEST_DOCKER: `ready`, or
// why there is no engine. Under CI=true no engine fails the run; elsewhere the engine tests are
// skipped, loudly. Each run registers itself as a user of the engine, so that the last run to
// end stops an engine the tests started (see docker-engine-teardown.mjs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { engineDir, root } from './docker-engine-users.mjs';

export default function setup() {
  if (process.env.PIKO_TEST_DOCKER === 'off') {
    process.env.PIKO_TEST_DOCKER = 'turned off by PIKO_TEST_DOCKER=off';
    return;
  }
  // Registered before the engine is asked for, so that another run ending meanwhile sees this
  // one and leaves the engine running.
  const user = `${engineDir}/users/${process.pid}`;
  mkdirSync(`${engineDir}/users`, { recursive: true });
  writeFileSync(user, '');
  const up = spawnSync('sh', [`${root}/.ci/engine-up`], { encoding: 'utf8' });
  if (up.status === 0) {
    process.env.PIKO_TEST_DOCKER = 'ready';
    if (/engine: started/.test(up.stdout)) writeFileSync(`${engineDir}/started-by-tests`, '');
    // What the engine goes without (the database images, so the database tests are skipped).
    if (up.stderr.trim()) process.stderr.write(`\n*** ${up.stderr.trim().replace(/\n/g, '\n*** ')}\n\n`);
    return;
  }
  rmSync(user, { force: true });
  const why = (up.stderr || up.error?.message || `exit ${up.status}`).trim().replace(/^engine: /gm, '');
  if (process.env.CI === 'true') throw new Error(`CI=true needs the real Docker engine, and it could not be had: ${why}`);
  process.env.PIKO_TEST_DOCKER = why;
  process.stderr.write(`\n*** No Docker engine: the real-engine tests are SKIPPED. Why: ${why}\n\n`);
}
