// Shared services with a database per environment, on a real Docker engine, through the real CLI
// (locally and through a real `piko server`). The engine comes from .ci/engine-up (jest's global
// setup), the database images piko-test/postgres and piko-test/mariadb from .ci/images. Every
// compose project these tests make (the environments' and the shared ones) is named after this
// process, and removed at the end whatever happened.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { cleanup, eventually, git, initProject, sandbox, tempDir, type PikoRun, type Sandbox } from '../../helpers/fixtures.js';
import { docker, NOTHING, projectResources, removeProjects } from '../../helpers/engine-resources.js';
import { startServer, stopServers } from '../../helpers/server.js';

const engine = process.env.PIKO_TEST_DOCKER ?? 'the global setup did not run';
const hasImage = (image: string): boolean => engine === 'ready' && spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status === 0;
const postgres = hasImage('piko-test/postgres');
const mariadb = hasImage('piko-test/mariadb');
const describeEngine = engine === 'ready' ? describe : describe.skip;
if (engine !== 'ready') console.warn(`SKIPPED: the shared services tests on a real Docker engine (${engine})`);
else if (!postgres) console.warn('SKIPPED: the shared Postgres tests: no image piko-test/postgres (.ci/images builds it)');
if (engine === 'ready' && !mariadb) console.warn('SKIPPED: the shared MariaDB test: no image piko-test/mariadb (.ci/images builds it)');
const itPostgres = postgres ? it : it.skip;
const itMariadb = mariadb ? it : it.skip;

/** The machine's own psql: the seeds run it against $PIKO_DB_URL, and the test tries PIKO_DB_HOST_URL with it. */
const hostPsql = spawnSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).stdout.trim();
if (postgres && !hostPsql) console.warn('NOTE: no psql on this machine: the seeds fill their template through the server container, and PIKO_DB_HOST_URL is not tried');

/** Project names of this run: compose projects are `piko-<project>-<env>` and `piko-<project>-shared`. */
const RUN = `shd${process.pid}`;

const LONG = 900_000;

/** One shared database server, and an app (the same image, for its client) in every environment. */
const POSTGRES_COMPOSE = {
  services: {
    db: {
      image: 'piko-test/postgres',
      environment: { POSTGRES_PASSWORD: 'pw' },
      healthcheck: { test: ['CMD', 'pg_isready', '-U', 'postgres'], interval: '1s', timeout: '5s', retries: 120 },
      volumes: ['pgdata:/var/lib/postgresql/data'],
    },
    app: {
      image: 'piko-test/postgres',
      init: true,
      command: ['sleep', '86400'],
      // The image's VOLUME would leave an anonymous volume behind each app a destroy --keep-volumes removes.
      tmpfs: ['/var/lib/postgresql/data'],
      depends_on: { db: { condition: 'service_healthy' } },
    },
  },
  volumes: { pgdata: {} },
};

/**
 * The template's seed: a line in `log` each time it runs, and a table with one row, made with the
 * machine's psql through $PIKO_DB_URL (the URL that reaches the server from the host) or, without
 * one, with the server container's.
 */
function postgresSeed(project: string, log: string): string {
  const sql = "create table items (name text); insert into items values ('from the seed')";
  const fill = hostPsql
    ? `psql "$PIKO_DB_URL" -X -q -v ON_ERROR_STOP=1 -c "${sql}"`
    : `docker exec "$(docker ps -q ${serviceFilter(`piko-${project}-shared`, 'db')})" psql -X -q -v ON_ERROR_STOP=1 -U postgres -d "$PIKO_DB_DATABASE" -c "${sql}"`;
  return `echo "seeded $PIKO_DB_DATABASE" >> '${log}' && ${fill}`;
}

const serviceFilter = (project: string, service: string): string =>
  `--filter label=com.docker.compose.project=${project} --filter label=com.docker.compose.service=${service}`;

function postgresFiles(project: string, log: string, setup?: string): Record<string, string> {
  return {
    'docker-compose.yml': stringify(POSTGRES_COMPOSE),
    '.piko.yml': stringify({
      shared: { db: { template: 'app_seed', seed: postgresSeed(project, log), env: 'DATABASE_URL' } },
      ...(setup ? { scripts: { setup } } : {}),
    }),
  };
}

/** The one running container of `service` in compose project `project` (v1 and v2 name them differently). */
async function containerOf(project: string, service: string): Promise<string> {
  const names = await docker('ps', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}');
  expect(names).toHaveLength(1);
  return names[0]!;
}

/** The id of the one running container of `service` in `project` (its name outlives a recreate). */
async function containerId(project: string, service: string): Promise<string> {
  return (await docker('inspect', '--format', '{{.Id}}', await containerOf(project, service)))[0]!;
}

/** Ports held on 127.0.0.1 by this process (those something else holds already are left out), until released. */
async function holdPorts(ports: number[]): Promise<{ ports: number[]; release(): Promise<void> }> {
  const servers = (
    await Promise.all(
      ports.map(
        (port) =>
          new Promise<{ port: number; server: Server } | undefined>((resolve) => {
            const server = createServer();
            server.once('error', () => resolve(undefined));
            server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve({ port, server }));
          }),
      ),
    )
  ).filter((held) => held !== undefined);
  const release = async () => {
    await Promise.all(servers.splice(0).map(({ server }) => new Promise((resolve) => server.close(resolve))));
  };
  holders.push(release);
  return { ports: servers.map((held) => held.port), release };
}

const holders: (() => Promise<void>)[] = [];

/** `sh -c script sh args...` in a container; its output, trimmed, or the failure with what it said. */
async function shIn(container: string, script: string, ...args: string[]): Promise<string> {
  const result = await execa('docker', ['exec', container, 'sh', '-c', script, 'sh', ...args], { reject: false });
  if (result.exitCode !== 0) throw new Error(`in ${container}: ${script} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout.trim();
}

/** SQL run in an environment's app container, on the database its DATABASE_URL names: rows, one a line. */
const psqlApp = (container: string, sql: string): Promise<string> => shIn(container, 'psql "$DATABASE_URL" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"', sql);

/** SQL run by the shared server's superuser, in its own container. */
const psqlServer = (container: string, sql: string, database = 'postgres'): Promise<string> =>
  shIn(container, 'psql -U postgres -d "$1" -X -A -t -q -v ON_ERROR_STOP=1 -c "$2"', database, sql);

/** Every database of the shared Postgres server. */
const databasesOn = async (server: string): Promise<string[]> => (await psqlServer(server, 'select datname from pg_database order by 1')).split('\n');

async function vars(box: Sandbox, repo: string, name: string): Promise<Record<string, string>> {
  return JSON.parse((await box.piko(['vars', name, '--json'], repo)).stdout) as Record<string, string>;
}

/** `run`, which must have succeeded: a failure fails the test with everything piko said. */
function ok(run: PikoRun, what: string): PikoRun {
  if (run.exitCode !== 0) throw new Error(`piko ${what} exited ${run.exitCode}:\n${run.stdout}\n${run.stderr}`);
  return run;
}

async function create(box: Sandbox, repo: string, name: string, ...args: string[]) {
  const created = ok(await box.piko(['create', name, ...args], repo), `create ${name}`);
  expect(created.stdout).toContain(`✓ ${name} ready (docker, running)`);
  return created;
}

async function destroy(box: Sandbox, repo: string, name: string, ...args: string[]) {
  return ok(await box.piko(['destroy', name, ...args], repo), `destroy ${name}`);
}

const seeds = (log: string): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

afterEach(async () => {
  for (const release of holders.splice(0)) await release();
  await stopServers();
  cleanup();
});

afterAll(async () => {
  if (engine !== 'ready') return;
  // Whatever a failed test left of this run's projects, the shared ones included (piko-<RUN>…-shared).
  await removeProjects(RUN);
});

describeEngine('shared services on a real engine', () => {
  itPostgres(
    'postgres: a database per environment from a template seeded once, --from an environment in use, setup failing, destroy, --keep-volumes, shared down',
    async () => {
      const box = sandbox({ realDocker: true });
      const project = `${RUN}p`;
      const sharedProject = `piko-${project}-shared`;
      const log = join(tempDir('piko-seed-'), 'seeds.log');
      const repo = await initProject(box, postgresFiles(project, log, 'test "$PIKO_ENV_NAME" != bad || exit 3'), project);
      const dbName = (env: string) => `piko_${project}_${env}`;

      // (1, 2) Two environments: the shared server starts once, the seed makes the template once.
      const one = await create(box, repo, 'one');
      expect(one.stdout).toContain(`seeding app_seed on db`);
      expect(one.stdout).toContain(`${dbName('one')} on db: a copy of app_seed`);
      const two = await create(box, repo, 'two');
      expect(two.stdout).toContain(`${dbName('two')} on db: a copy of app_seed`);
      expect(seeds(log)).toEqual(['seeded app_seed']);

      // The environments' compose projects leave db out: it runs once, in the shared project.
      const server = await containerOf(sharedProject, 'db');
      expect((await projectResources(sharedProject)).containers).toEqual([server]);
      for (const env of ['one', 'two']) {
        expect((await docker('ps', '--all', '--filter', `label=com.docker.compose.project=piko-${project}-${env}`, '--format', '{{.Label "com.docker.compose.service"}}'))).toEqual(['app']);
      }
      const appOne = await containerOf(`piko-${project}-one`, 'app');
      const appTwo = await containerOf(`piko-${project}-two`, 'app');

      // Each app's DATABASE_URL names its own database on db:5432, and the template's rows are in it.
      const [hostPort] = (await docker('port', server, '5432/tcp')).map((line) => /^127\.0\.0\.1:(\d+)$/.exec(line)?.[1]);
      expect(hostPort).toMatch(/^\d+$/);
      for (const [env, app] of [['one', appOne], ['two', appTwo]] as const) {
        const url = `postgres://postgres:pw@db:5432/${dbName(env)}`;
        expect(await shIn(app, 'echo "$DATABASE_URL"')).toBe(url);
        expect(await psqlApp(app, 'select current_database()')).toBe(dbName(env));
        expect(await psqlApp(app, 'select name from items')).toBe('from the seed');
        const v = await vars(box, repo, env);
        expect({ database: v.PIKO_DB_DATABASE, url: v.PIKO_DB_URL, hostUrl: v.PIKO_DB_HOST_URL, port: v.PIKO_DB_PORT }).toEqual({
          database: dbName(env),
          url,
          hostUrl: `postgres://postgres:pw@127.0.0.1:${hostPort}/${dbName(env)}`,
          port: hostPort,
        });
        if (hostPsql) {
          expect((await execa(hostPsql, [v.PIKO_DB_HOST_URL!, '-X', '-A', '-t', '-c', 'select current_database()'])).stdout.trim()).toBe(dbName(env));
        }
      }

      // What one writes, two never sees.
      await psqlApp(appOne, "create table notes (text text); insert into notes values ('one was here'); insert into items values ('only in one')");
      expect(await psqlApp(appOne, 'select text from notes')).toBe('one was here');
      expect(await psqlApp(appTwo, "select coalesce(to_regclass('notes')::text, 'absent')")).toBe('absent');
      expect(await psqlApp(appTwo, 'select name from items order by name')).toBe('from the seed');
      expect(await psqlServer(server, 'select name from items order by name', 'app_seed')).toBe('from the seed');

      // (3) --from one while one holds a connection open: the copy has one's rows, one is left alone.
      await docker('exec', '-d', appOne, 'sh', '-c', 'psql "$DATABASE_URL" -X -q -c "select pg_sleep(120)"');
      const sleeper = `select pid from pg_stat_activity where datname = '${dbName('one')}' and query = 'select pg_sleep(120)'`;
      const pid = await eventually('the sleeping connection to one', async () => (await psqlServer(server, sleeper)) || undefined, 30_000);
      const rowsOfOne = 'select name from items order by name';
      const before = await psqlApp(appOne, rowsOfOne);
      const three = await create(box, repo, 'three', '--from', 'one');
      // A TEMPLATE copy is impossible while one is connected: it goes through pg_dump.
      expect(three.stdout).toContain(`${dbName('one')} has open connections: copying it through pg_dump`);
      expect(three.stdout).toContain(`${dbName('three')} on db: a copy of ${dbName('one')} (one's)`);
      const appThree = await containerOf(`piko-${project}-three`, 'app');
      expect(await psqlApp(appThree, 'select current_database()')).toBe(dbName('three'));
      expect(await psqlApp(appThree, 'select text from notes')).toBe('one was here');
      expect(await psqlApp(appThree, rowsOfOne)).toBe('from the seed\nonly in one');
      expect(await psqlServer(server, sleeper)).toBe(pid);
      expect(await psqlApp(appOne, rowsOfOne)).toBe(before);
      // The copy is a database of its own.
      await psqlApp(appThree, "insert into notes values ('three was here')");
      expect(await psqlApp(appOne, 'select text from notes')).toBe('one was here');

      // (4) destroy drops its database and no other.
      const withThree = await databasesOn(server);
      expect(withThree).toEqual(expect.arrayContaining(['app_seed', dbName('one'), dbName('two'), dbName('three')]));
      const gone = await destroy(box, repo, 'three');
      expect(gone.stdout).toContain(`dropped ${dbName('three')} on db`);
      expect(await databasesOn(server)).toEqual(withThree.filter((name) => name !== dbName('three')));

      // --keep-volumes keeps it, and a create of the same name takes it up again as it was.
      await psqlApp(appTwo, "insert into items values ('kept by two')");
      const kept = await destroy(box, repo, 'two', '--keep-volumes');
      expect(kept.stdout).toContain(`kept ${dbName('two')} on db (--keep-volumes)`);
      expect(await databasesOn(server)).toContain(dbName('two'));
      const again = await create(box, repo, 'two');
      expect(again.stdout).toContain(`${dbName('two')} on db is there already`);
      const appTwoAgain = await containerOf(`piko-${project}-two`, 'app');
      expect(await psqlApp(appTwoAgain, 'select name from items order by name')).toBe('from the seed\nkept by two');

      // (5) A failing setup rolls its database back and leaves the others.
      const beforeBad = await databasesOn(server);
      const bad = await box.piko(['create', 'bad'], repo);
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toContain('✗ bad failed at script:setup (exit 3)');
      expect(bad.stdout).toContain(`dropped ${dbName('bad')} on db`);
      expect(await databasesOn(server)).toEqual(beforeBad);
      expect(await projectResources(`piko-${project}-bad`)).toEqual(NOTHING);
      expect(await psqlApp(appOne, 'select text from notes')).toBe('one was here');
      expect(seeds(log)).toHaveLength(1);

      // (6) shared down is refused while environments use it, and stops nothing.
      const refused = await box.piko(['shared', 'down'], repo);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(new RegExp(`${sharedProject} is used by (one, two|two, one)`));
      expect((await projectResources(sharedProject, true)).containers).toEqual([server]);
      const refusedVolumes = await box.piko(['shared', 'down', '--volumes', '--force'], repo);
      expect(refusedVolumes.exitCode).not.toBe(0);
      expect((await projectResources(sharedProject, true)).containers).toEqual([server]);

      for (const env of ['one', 'two']) {
        await destroy(box, repo, env);
        expect(await projectResources(`piko-${project}-${env}`)).toEqual(NOTHING);
      }
      expect((await databasesOn(server)).filter((name) => name.startsWith('piko_'))).toEqual([]);

      // Once nobody uses it, down stops it and keeps its data: up again finds the template there.
      const down = ok(await box.piko(['shared', 'down'], repo), 'shared down');
      expect(down.stderr).toContain(`${sharedProject} is down`);
      expect((await projectResources(sharedProject)).containers).toEqual([]);
      expect((await projectResources(sharedProject)).volumes).toEqual([`${sharedProject}_pgdata`]);
      ok(await box.piko(['shared', 'up'], repo), 'shared up');
      const restarted = await containerOf(sharedProject, 'db');
      expect(await psqlServer(restarted, 'select name from items', 'app_seed')).toBe('from the seed');
      expect(seeds(log)).toHaveLength(1);
      // down --volumes removes the data too.
      ok(await box.piko(['shared', 'down', '--volumes'], repo), 'shared down --volumes');
      expect(await projectResources(sharedProject)).toEqual(NOTHING);
    },
    LONG,
  );

  itPostgres(
    'postgres: two creates at once start one shared project; a create and destroy through piko server',
    async () => {
      const box = sandbox({ realDocker: true });
      const project = `${RUN}c`;
      const sharedProject = `piko-${project}-shared`;
      const log = join(tempDir('piko-seed-'), 'seeds.log');
      const repo = await initProject(box, postgresFiles(project, log), project);
      const dbName = (env: string) => `piko_${project}_${env}`;

      // Ports of the shared block the shared server would prefer, held for now: once they come
      // free, it must keep the port it has (a moved port would have compose recreate it).
      const held = await holdPorts([1, 2, 3, 4].flatMap((block) => [0, 1, 2].map((i) => 10000 + 100 * block + 32 + i)));

      // (7) Locally, two at once: one shared server, one seed, both ready on their own databases.
      const [a, b] = await Promise.all([box.piko(['create', 'a'], repo), box.piko(['create', 'b'], repo)]);
      for (const [name, run] of [['a', a], ['b', b]] as const) expect(ok(run, `create ${name}`).stdout).toContain(`✓ ${name} ready (docker, running)`);
      expect(await docker('ps', '--all', '--filter', `label=com.docker.compose.project=${sharedProject}`, '--format', '{{.Label "com.docker.compose.service"}}')).toEqual(['db']);
      expect(seeds(log)).toEqual(['seeded app_seed']);
      const first = await containerId(sharedProject, 'db');
      for (const env of ['a', 'b']) {
        const app = await containerOf(`piko-${project}-${env}`, 'app');
        expect(await psqlApp(app, 'select current_database()')).toBe(dbName(env));
        expect(await psqlApp(app, 'select name from items')).toBe('from the seed');
      }
      const port = Number((await vars(box, repo, 'a')).PIKO_DB_PORT);
      const preferred = port - ((port - 32) % 100);
      expect(held.ports.some((p) => p >= preferred && p < port)).toBe(true);
      await held.release();

      // An environment taken down and up again (its network made anew) finds db again, and the
      // shared server, planned again with a port it prefers free now, is left as it is.
      ok(await box.piko(['down', 'a'], repo), 'down a');
      expect((await projectResources(`piko-${project}-a`, true)).containers).toEqual([]);
      expect(await containerId(sharedProject, 'db')).toBe(first);
      const up = ok(await box.piko(['up', 'a'], repo), 'up a');
      expect(up.stdout).toContain(`${sharedProject} runs already`);
      expect(await containerId(sharedProject, 'db')).toBe(first);
      expect(Number((await vars(box, repo, 'a')).PIKO_DB_PORT)).toBe(port);
      expect(await psqlApp(await containerOf(`piko-${project}-a`, 'app'), 'select name from items')).toBe('from the seed');
      // The shared server stopped under them (--force) and started again joins their networks again.
      ok(await box.piko(['shared', 'down', '--force'], repo), 'shared down --force');
      expect((await projectResources(sharedProject, true)).containers).toEqual([]);
      ok(await box.piko(['shared', 'up'], repo), 'shared up');
      for (const env of ['a', 'b']) expect(await psqlApp(await containerOf(`piko-${project}-${env}`, 'app'), 'select current_database()')).toBe(dbName(env));

      // (8) Through a real piko server: a database of its own, dropped again. The shared service
      // was changed in the compose file meanwhile: compose recreates it, and the environments
      // running on it find it again.
      const { services } = POSTGRES_COMPOSE;
      const changed = { ...POSTGRES_COMPOSE, services: { ...services, db: { ...services.db, environment: { ...services.db.environment, CHANGED: 'yes' } } } };
      writeFileSync(join(repo, 'docker-compose.yml'), stringify(changed));
      const piko = await startServer(box);
      const viaServer = await create(box, repo, 'srv');
      expect(piko.output()).toMatch(/GET \/api\/environments\/create\/stream 101 websocket/);
      expect(viaServer.stdout).toMatch(/Recreating piko-\w+-shared[-_]db[-_]1/);
      expect(viaServer.stdout).toContain(`${dbName('srv')} on db: a copy of app_seed`);
      const server = await containerOf(sharedProject, 'db');
      expect(await shIn(server, 'echo "$CHANGED"')).toBe('yes');
      const app = await containerOf(`piko-${project}-srv`, 'app');
      expect(await psqlApp(app, 'select current_database()')).toBe(dbName('srv'));
      expect(await psqlApp(app, 'select name from items')).toBe('from the seed');
      for (const env of ['a', 'b']) expect(await psqlApp(await containerOf(`piko-${project}-${env}`, 'app'), 'select current_database()')).toBe(dbName(env));
      expect((await vars(box, repo, 'srv')).PIKO_DB_DATABASE).toBe(dbName('srv'));
      const withSrv = await databasesOn(server);
      await destroy(box, repo, 'srv');
      expect(piko.output()).toMatch(/GET \/api\/environments\/destroy\/stream 101 websocket/);
      expect(await databasesOn(server)).toEqual(withSrv.filter((name) => name !== dbName('srv')));
      expect(await projectResources(`piko-${project}-srv`)).toEqual(NOTHING);
      expect(seeds(log)).toHaveLength(1);

      for (const env of ['a', 'b']) await destroy(box, repo, env);
      expect((await databasesOn(server)).filter((name) => name.startsWith('piko_'))).toEqual([]);
      ok(await box.piko(['shared', 'down', '--volumes'], repo), 'shared down --volumes');
      expect(await projectResources(sharedProject)).toEqual(NOTHING);
    },
    LONG,
  );

  itMariadb(
    'mariadb: database: mysql guessed from the image, an empty database, and a template copied by dump and restore',
    async () => {
      const box = sandbox({ realDocker: true });
      const project = `${RUN}m`;
      const sharedProject = `piko-${project}-shared`;
      const dbName = (env: string) => `piko_${project}_${env}`;
      const compose = {
        services: {
          db: {
            image: 'piko-test/mariadb',
            environment: { MARIADB_ROOT_PASSWORD: 'pw' },
            healthcheck: { test: ['CMD', 'mariadb-admin', 'ping', '--silent'], interval: '1s', timeout: '5s', retries: 120 },
            volumes: ['data:/var/lib/mysql'],
          },
          app: { image: 'piko-test/mariadb', init: true, command: ['sleep', '86400'], tmpfs: ['/var/lib/mysql'] },
        },
        volumes: { data: {} },
      };
      // No database: set: piko tells it is a MySQL server by its image.
      const repo = await initProject(box, { 'docker-compose.yml': stringify(compose), '.piko.yml': stringify({ shared: { db: { env: 'DATABASE_URL' } } }) }, project);

      // The app reaches its database by the URL alone (the client takes no URL: its parts, then).
      const sql = (container: string, statement: string) =>
        shIn(
          container,
          [
            'rest=${DATABASE_URL#mysql://}; auth=${rest%%@*}; at=${rest#*@}; host=${at%%:*}; port=${at#*:}; port=${port%%/*}',
            'MYSQL_PWD=${auth#*:} exec mariadb -h "$host" -P "$port" -u "${auth%%:*}" -N -B "${rest##*/}" -e "$1"',
          ].join('\n'),
          statement,
        );

      // Without a template, an empty database.
      const blank = await create(box, repo, 'blank');
      expect(blank.stdout).toContain(`${dbName('blank')} on db: a new, empty database`);
      const appBlank = await containerOf(`piko-${project}-blank`, 'app');
      expect(await shIn(appBlank, 'echo "$DATABASE_URL"')).toBe(`mysql://root:pw@db:3306/${dbName('blank')}`);
      const v = await vars(box, repo, 'blank');
      expect(v.PIKO_DB_URL).toBe(`mysql://root:pw@db:3306/${dbName('blank')}`);
      expect(v.PIKO_DB_HOST_URL).toBe(`mysql://root:pw@127.0.0.1:${v.PIKO_DB_PORT}/${dbName('blank')}`);
      expect(await sql(appBlank, 'select database()')).toBe(dbName('blank'));
      expect(await sql(appBlank, 'show tables')).toBe('');

      // Then a template, made by a seed (through the server's container: no MySQL client on the host).
      const log = join(tempDir('piko-seed-'), 'seeds.log');
      const seed = `echo "seeded $PIKO_DB_DATABASE" >> '${log}' && docker exec "$(docker ps -q ${serviceFilter(sharedProject, 'db')})" mariadb -uroot "$PIKO_DB_DATABASE" -e "create table items (name varchar(40)); insert into items values ('from the seed')"`;
      writeFileSync(join(repo, '.piko.yml'), stringify({ shared: { db: { template: 'app_seed', seed, env: 'DATABASE_URL' } } }));
      git(repo, 'commit', '-q', '-am', 'a template');
      ok(await box.piko(['trust'], repo), 'trust');
      const copied = await create(box, repo, 'copy');
      expect(copied.stdout).toContain(`${dbName('copy')} on db: a copy of app_seed`);
      expect(seeds(log)).toEqual(['seeded app_seed']);
      const appCopy = await containerOf(`piko-${project}-copy`, 'app');
      expect(await sql(appCopy, 'select database()')).toBe(dbName('copy'));
      expect(await sql(appCopy, 'select name from items')).toBe('from the seed');
      await sql(appCopy, "insert into items values ('only in copy')");
      expect(await sql(appCopy, 'select name from items order by name')).toBe('from the seed\nonly in copy');
      // The template and the empty one are untouched.
      const server = await containerOf(sharedProject, 'db');
      expect(await shIn(server, 'mariadb -uroot -N -B app_seed -e "select name from items"')).toBe('from the seed');
      expect(await sql(appBlank, 'show tables')).toBe('');

      const schemas = async () => (await shIn(server, "mariadb -uroot -N -B -e \"select schema_name from information_schema.schemata where schema_name like 'piko%' order by 1\"")).split('\n').filter(Boolean);
      expect(await schemas()).toEqual([dbName('blank'), dbName('copy')]);
      await destroy(box, repo, 'copy');
      expect(await schemas()).toEqual([dbName('blank')]);
      await destroy(box, repo, 'blank');
      expect(await schemas()).toEqual([]);
      ok(await box.piko(['shared', 'down', '--volumes'], repo), 'shared down --volumes');
      expect(await projectResources(sharedProject)).toEqual(NOTHING);
    },
    LONG,
  );
});
