// `npm run soak`: many creates and destroys through one `piko server`, with clients killed at
// random moments and the server restarted now and then (with SIGKILL mid-operation too). At
// the end nothing may be left that should not be: no worktree, branch, data directory, state
// row, tmux session or container; and the server's memory must be flat. Prints what it found.
//
//   node dist/bench/soak.js [--rounds=200] [--seed=1]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { env, home, median, piko, PIKO, repo, rssMb, work } from './harness.js';

const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ROUNDS = arg('rounds', 200);
let seed = arg('seed', 1);
/** A small deterministic generator, so a failing soak can be run again as it was. */
const random = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

interface Server {
  child: ResultPromise;
  pid: number;
}

async function startServer(): Promise<Server> {
  const child = execa('node', [PIKO, 'server', '--port', '0'], { env, reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' });
  for (;;) {
    try {
      const info = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number };
      if (info.pid === child.pid) return { child, pid: child.pid };
    } catch {
      // Not written yet.
    }
    if (child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopServer(server: Server, signal: NodeJS.Signals): Promise<void> {
  server.child.kill(signal);
  await server.child;
}

// The image .ci/engine-up builds from the machine's own busybox (no registry needed).
const dockerUp = (await execa('docker', ['image', 'inspect', 'piko-test/busybox'], { reject: false })).exitCode === 0;

const simple = await repo('soak', 'seq 1 3000; sleep 0.3');
const compose = 'services:\n  idle:\n    image: piko-test/busybox\n    command: ["sleep", "600"]\n    ports: ["80"]\n';
const docker = dockerUp ? await repo('soak-docker', 'echo up', { 'docker-compose.yml': compose }) : undefined;

const environments = async (): Promise<{ name: string; project: string; status: string }[]> =>
  JSON.parse((await piko(['list', '--json'], simple)).stdout || '[]') as { name: string; project: string; status: string }[];

/** Destroys `name` once nothing runs on it any more (a killed client's create goes on in the server). */
async function destroy(dir: string, name: string): Promise<void> {
  for (;;) {
    const result = await piko(['destroy', name, '--force'], dir);
    if (result.exitCode === 0 || /PIKO_ERR_ENV_NOT_FOUND|no environment/.test(result.stderr)) return;
    if (!/busy/.test(result.stderr)) throw new Error(`destroy ${name} failed:\n${result.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let server = await startServer();
const memory: { server: number; round: number; mb: number }[] = [];
let servers = 1;
let killedClients = 0;
let crashes = 0;
const started = Date.now();
for (let round = 1; round <= ROUNDS; round++) {
  const onDocker = docker !== undefined && round % 10 === 0;
  const dir = onDocker ? docker : simple;
  const name = `soak-${round}`;
  const client = execa('node', [PIKO, 'create', name, '--no-attach'], { cwd: dir, env, reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' });
  if (random() < 0.35) {
    const at = random() * 600;
    setTimeout(() => client.kill('SIGKILL'), at);
    killedClients++;
  }
  await client;
  if (round % 67 === 0 && round % 134 !== 0) {
    // A crash mid-operation: the next server finds the operation it left and marks it failed.
    const crashing = execa('node', [PIKO, 'create', `${name}-crash`, '--no-attach'], { cwd: simple, env, reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' });
    await new Promise((r) => setTimeout(r, 200 + random() * 300));
    await stopServer(server, 'SIGKILL');
    crashes++;
    await crashing;
    server = await startServer();
    servers++;
    await destroy(simple, `${name}-crash`);
  } else if (round % 134 === 0) {
    await stopServer(server, 'SIGTERM');
    server = await startServer();
    servers++;
  }
  await destroy(dir, name);
  memory.push({ server: servers, round, mb: rssMb(server.pid) });
  if (round % 20 === 0) process.stderr.write(`round ${round}/${ROUNDS}: server rss ${rssMb(server.pid).toFixed(0)} MB\n`);
}
const left = await environments();
await stopServer(server, 'SIGTERM');

// What must be gone.
const leftovers: string[] = [];
for (const dir of [simple, docker].filter((d): d is string => d !== undefined)) {
  for (const sub of ['worktrees', 'data']) {
    const path = join(dir, '.piko', sub);
    if (existsSync(path) && readdirSync(path).length) leftovers.push(`${path}: ${readdirSync(path).join(', ')}`);
  }
  const branches = (await execa('git', ['branch', '--list', 'soak-*'], { cwd: dir })).stdout.trim();
  if (branches) leftovers.push(`branches in ${dir}: ${branches.replace(/\s+/g, ' ')}`);
}
if (left.length) leftovers.push(`state rows: ${left.map((e) => `${e.name} (${e.status})`).join(', ')}`);
const sessions = await execa('tmux', ['-L', env.PIKO_TMUX_SOCKET, 'list-sessions'], { reject: false });
if (sessions.exitCode === 0 && sessions.stdout.trim()) leftovers.push(`tmux sessions: ${sessions.stdout.trim()}`);
if (dockerUp) {
  const containers = (await execa('docker', ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Names}}'], { reject: false })).stdout
    .split('\n')
    .filter((n) => n.startsWith('piko-soak'));
  if (containers.length) leftovers.push(`containers: ${containers.join(', ')}`);
}

// Flat memory: each server's last ten rounds against ten rounds once it is warm (its 5th to 15th).
const flat = [...new Set(memory.map((m) => m.server))].map((id) => {
  const mine = memory.filter((m) => m.server === id).map((m) => m.mb);
  return { id, rounds: mine.length, warm: median(mine.slice(5, 15)), last: median(mine.slice(-10)) };
}).filter((f) => f.rounds >= 30);
const report = [
  `soak: ${ROUNDS} creates and destroys (${docker ? 'every 10th with a container' : 'no docker engine: simple environments only'}), ${killedClients} clients killed at random moments, ${servers - 1} server restarts (${crashes} of them SIGKILL mid-operation), ${((Date.now() - started) / 1000).toFixed(0)} s`,
  `left behind: ${leftovers.length ? leftovers.join('; ') : 'nothing'}`,
  `server RSS (median of ten rounds), per server: ${flat.map((f) => `${f.rounds} rounds: ${f.warm.toFixed(0)} MB warm → ${f.last.toFixed(0)} MB at its end (${(f.last / f.warm).toFixed(2)}×)`).join('; ')}`,
];
console.log(report.join('\n'));
writeFileSync(join(work, 'soak.txt'), `${report.join('\n')}\n`);
process.exitCode = leftovers.length === 0 && flat.every((f) => f.last <= 1.2 * f.warm) ? 0 : 1;
