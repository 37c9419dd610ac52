// The global teardown of jest's `engine` project: this run stops using the engine, and when the
// tests started it and no other run still uses it, stops it (see docker-engine-setup.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { engineDir, root } from './docker-engine-users.mjs';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export default function teardown() {
  const users = `${engineDir}/users`;
  rmSync(`${users}/${process.pid}`, { force: true });
  if (!existsSync(`${engineDir}/started-by-tests`)) return;
  const others = existsSync(users) ? readdirSync(users).filter((pid) => alive(Number(pid))) : [];
  if (others.length > 0) return;
  rmSync(`${engineDir}/started-by-tests`, { force: true });
  spawnSync('sh', [`${root}/.ci/engine-down`], { stdio: 'ignore' });
}
