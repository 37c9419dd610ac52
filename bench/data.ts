// Environments that arrive with their data: a compose project with an app and Postgres whose
// seed is 50 MB of rows, made ready (1) isolated, each environment with its own Postgres seeded
// by its setup, against (2) shared, one Postgres for the project and each environment's database
// a copy of the seeded template; and the memory five running environments take either way
// (`docker stats`). Needs a Docker engine and the piko-test/postgres image (.ci/images).
import { execa } from 'execa';
import { median, ms, piko, repo, row, RUNS, spread, timed } from './harness.js';

/**
 * About 50 MB of rows, as a team's seed makes them: 100,000 INSERTs of 500 bytes each in one
 * transaction (`psql -1 -f seed.sql`), what an ORM's seed or a SQL fixture file does.
 */
function seedSql(): string {
  const lines = ['CREATE TABLE items (id integer PRIMARY KEY, payload text);'];
  for (let i = 1; i <= 100_000; i++) lines.push(`INSERT INTO items VALUES (${i}, '${String(i).padStart(8, '0').repeat(62)}');`);
  return `${lines.join('\n')}\n`;
}
const SEED = (url: string) => `psql "${url}" -q -1 -f seed.sql`;

const DB = `  db:
    image: piko-test/postgres
    environment: {POSTGRES_PASSWORD: secret}
    healthcheck: {test: [CMD, pg_isready, -U, postgres], interval: 1s, retries: 60}
    volumes: [pgdata:/var/lib/postgresql/data]
`;
const APP = `  app:
    image: piko-test/postgres
    init: true
    command: [sleep, "86400"]
    depends_on: {db: {condition: service_healthy}}
`;

async function available(): Promise<string | undefined> {
  const image = await execa('docker', ['image', 'inspect', 'piko-test/postgres'], { reject: false });
  if (image.exitCode !== 0) return 'no Docker engine with the piko-test/postgres image (.ci/engine-up builds it)';
  return (await execa('psql', ['--version'], { reject: false })).exitCode === 0 ? undefined : 'no psql on the host';
}

/** The memory (MB) the containers of compose projects starting with `prefix` use now. */
async function memoryOf(prefix: string): Promise<number> {
  const ids = (await execa('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project`])).stdout.split('\n').filter(Boolean);
  const lines = (await execa('docker', ['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...ids])).stdout.split('\n');
  let total = 0;
  for (const line of lines) {
    const [name = '', usage = ''] = line.split('\t');
    if (!name.startsWith(prefix)) continue;
    const [value, unit] = /^([\d.]+)\s*([KMG]i?B)/.exec(usage)?.slice(1) ?? ['0', 'MiB'];
    total += Number(value) * ({ KiB: 1 / 1024, KB: 1 / 1000, MiB: 1, MB: 1, GiB: 1024, GB: 1000 }[unit!] ?? 1);
  }
  return total;
}

/** A checkpoint on the Postgres of compose project `project`, and the disk synced: nothing left to write. */
async function settle(project: string): Promise<void> {
  const filter = ['--filter', `label=com.docker.compose.project=${project}`, '--filter', 'label=com.docker.compose.service=db'];
  const [db] = (await execa('docker', ['ps', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (db) await execa('docker', ['exec', db, 'psql', '-U', 'postgres', '-qc', 'CHECKPOINT'], { reject: false });
  await execa('sync', [], { reject: false });
}

/** Destroys every environment of the repository's project. */
async function destroyAll(dir: string): Promise<void> {
  const project = dir.split('/').pop()!;
  const listed = JSON.parse((await piko(['list', '--json'], dir)).stdout || '[]') as { name: string; project: string }[];
  for (const env of listed.filter((e) => e.project === project)) await piko(['destroy', `${env.project}/${env.name}`, '--force'], dir);
}

export async function data(): Promise<void> {
  const missing = await available();
  if (missing) {
    row('data: ready environment, shared vs isolated', 'not measured', '< 3 s, ≥ 5x', undefined, missing);
    return;
  }
  const seed = seedSql();
  const isolated = await repo('data-isolated', SEED('postgres://postgres:secret@127.0.0.1:$PIKO_DB_PORT/postgres'), {
    'compose.yml': `services:\n${APP}${DB.replace('volumes:', 'ports: ["5432"]\n    volumes:')}volumes:\n  pgdata: {}\n`,
    'seed.sql': seed,
  });
  const shared = await repo('data-shared', '', {
    'compose.yml': `services:\n${APP}${DB}volumes:\n  pgdata: {}\n`,
    '.piko.yml': `shared:\n  db:\n    template: app_seed\n    env: DATABASE_URL\n    seed: ${SEED('$PIKO_DB_URL')}\n`,
    'seed.sql': seed,
  });
  await piko(['trust', '--yes'], shared);
  const times: Record<'isolated' | 'shared', number[]> = { isolated: [], shared: [] };
  const create = async (dir: string, name: string): Promise<number> =>
    timed(async () => {
      const result = await piko(['create', name, '--no-attach', '--yes'], dir);
      if (result.exitCode !== 0) throw new Error(`create ${name} failed: ${result.stderr}`);
    });
  try {
    // The template is made once, by the first create: not what a later environment costs.
    await create(shared, 'warm');
    for (let i = 0; i < RUNS; i++) {
      times.isolated.push(await create(isolated, `t${i}`));
      // What the isolated seed wrote is still being flushed when its create returns: settled
      // before the next create is timed, so neither kind pays for the other's disk.
      await settle(`piko-data-isolated-t${i}`);
      times.shared.push(await create(shared, `t${i}`));
      await settle('piko-data-shared-shared');
    }
    const ratio = median(times.isolated) / median(times.shared);
    row(
      'data: a ready environment with a 50 MB database, shared (template copy)',
      ms(median(times.shared)),
      '< 3 s',
      median(times.shared) < 3000,
      `spread ${spread(times.shared)} ms; isolated (own Postgres, seeded by setup) ${ms(median(times.isolated))} (${spread(times.isolated)}): ${ratio.toFixed(1)}x sooner, target ≥ 5x`,
    );
    // One running environment, then five, of each kind, every one fresh from its create (its
    // data as its setup or the copy left it); the shared project's one server counted with them.
    const one = { isolated: 0, shared: 0 };
    const five = { isolated: 0, shared: 0 };
    for (const [kind, dir] of [['isolated', isolated], ['shared', shared]] as const) {
      await destroyAll(dir);
      await create(dir, 'm0');
      one[kind] = await memoryOf(`piko-${dir.split('/').pop()}-`);
      for (const name of ['m1', 'm2', 'm3', 'm4']) await create(dir, name);
      five[kind] = await memoryOf(`piko-${dir.split('/').pop()}-`);
    }
    row(
      'data: memory of five running environments / one',
      `${(five.shared / one.shared).toFixed(2)}x`,
      '≤ 1.5x',
      five.shared / one.shared <= 1.5,
      `shared ${five.shared.toFixed(0)} MB for five, ${one.shared.toFixed(0)} for one; isolated ${five.isolated.toFixed(0)} MB for five, ${one.isolated.toFixed(0)} for one (${(five.isolated / one.isolated).toFixed(2)}x)`,
    );
  } finally {
    for (const dir of [isolated, shared]) await destroyAll(dir);
    await piko(['shared', 'down', '--volumes'], shared);
  }
}
