// An environment's database on a shared server, made through the server's own container
// (`docker exec`): piko needs no database client or driver on the host. Names reach SQL only
// after databaseName() made them (letters, digits, `_`), and reach a shell only as arguments.
import type { DatabaseKind } from '../../core/config/config.js';
import { PikoError } from '../../core/errors.js';
import { query } from '../../core/system/query.js';
import type { Credentials } from './model.js';

export type ServerKind = Exclude<DatabaseKind, 'none'>;

/** Runs a command with its output shown to the user (a stage's exec, or the terminal). */
export interface Shell {
  run(file: string, args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<void>;
  info(text: string): void;
  warn(text: string): void;
}

export interface DatabaseServer {
  kind: ServerKind;
  service: string;
  /** The container it runs in. */
  container: string;
  who: Credentials;
}

const SAFE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function checked(name: string): string {
  if (!SAFE.test(name)) throw new PikoError('PIKO_ERR_INTERNAL', `not a database name piko makes: ${JSON.stringify(name)}`);
  return name;
}

/** `docker exec` with the credentials in the environment (never on a command line that `ps` shows). */
function execArgs(server: DatabaseServer, command: string[]): string[] {
  const password = server.who.password ?? '';
  const env = server.kind === 'postgres' ? ['-e', `PGPASSWORD=${password}`] : ['-e', `MYSQL_PWD=${password}`];
  return ['exec', '-i', ...env, server.container, ...command];
}

/** The server's client, quiet and unaligned, for one statement; its output, or an error in the server's words. */
async function sql(server: DatabaseServer, statement: string, what: string): Promise<string> {
  const client =
    server.kind === 'postgres'
      ? ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-U', server.who.user, '-d', 'postgres', '-c', statement]
      : // `mariadb` where newer MariaDB images have only that name, `mysql` elsewhere.
        ['sh', '-c', 'exec "$(command -v mariadb || command -v mysql)" -N -B -u"$0" -e "$1"', server.who.user, statement];
  const result = await query('docker', execArgs(server, client), { timeout: 120_000 });
  if (result.exitCode === 0) return result.stdout.trim();
  const said = (result.stderr || result.stdout).trim().split('\n').filter(Boolean).slice(-2).join(' ');
  const refused = /password authentication failed|Access denied|role .* does not exist/i.test(said);
  throw new PikoError('PIKO_ERR_STAGE_FAILED', `database failed: ${what} on ${server.service} (${server.kind}) failed: ${said || `exit ${result.exitCode ?? result.code}`}`, {
    stage: 'database',
    ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
    ...(refused
      ? { hint: `The server refused piko's credentials: piko connects as the ${server.who.user} user the service's environment declares (${server.kind === 'postgres' ? 'POSTGRES_USER, POSTGRES_PASSWORD' : 'MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD'}); make them match the server's data, or remove its volume with \`piko shared down --volumes\`.` }
      : {}),
  });
}

/** Whether the server takes connections yet (it may still be starting after its container did). */
export async function ready(server: DatabaseServer): Promise<boolean> {
  const probe =
    server.kind === 'postgres'
      ? ['pg_isready', '-q', '-U', server.who.user]
      : ['sh', '-c', 'exec "$(command -v mariadb-admin || command -v mysqladmin)" ping -u"$0" --silent', server.who.user];
  const result = await query('docker', execArgs(server, probe), { timeout: 30_000 });
  // 126/127: the image has no such client, so it never will be ready as far as piko can tell.
  if (result.exitCode === 126 || result.exitCode === 127) {
    throw new PikoError('PIKO_ERR_CONFIG_INVALID', `${server.service} is set up as a ${server.kind} server, but its image has no ${server.kind === 'postgres' ? 'pg_isready' : 'mysqladmin or mariadb-admin'}`, {
      stage: 'shared',
      hint: `piko makes each environment's database with the server's own client tools inside its container: use a ${server.kind} image that has them, or set database: none under shared.${server.service}.`,
    });
  }
  return result.exitCode === 0;
}

export async function exists(server: DatabaseServer, name: string): Promise<boolean> {
  const statement =
    server.kind === 'postgres'
      ? `SELECT 1 FROM pg_database WHERE datname = '${checked(name)}'`
      : `SELECT 1 FROM information_schema.schemata WHERE schema_name = '${checked(name)}'`;
  return (await sql(server, statement, `looking for database ${name}`)) === '1';
}

/** An empty database, or (Postgres) a copy of `template` made by the server itself. */
export async function create(server: DatabaseServer, name: string, template?: string): Promise<void> {
  const statement =
    server.kind === 'postgres'
      ? `CREATE DATABASE ${checked(name)}${template === undefined ? '' : ` TEMPLATE ${checked(template)}`}`
      : `CREATE DATABASE \`${checked(name)}\``;
  await sql(server, statement, template === undefined ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`);
}

export async function drop(server: DatabaseServer, name: string): Promise<void> {
  // Postgres 13+: whoever is still connected is put out first (the environment's containers are gone).
  const statement = server.kind === 'postgres' ? `DROP DATABASE IF EXISTS ${checked(name)} WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${checked(name)}\``;
  await sql(server, statement, `DROP DATABASE ${name}`);
}

/**
 * `to` (existing, empty) filled with a copy of `from`, streamed through dump and restore inside
 * the container: `from` is read in one consistent snapshot and never locked or stopped.
 */
export async function copyByDump(server: DatabaseServer, shell: Shell, from: string, to: string): Promise<void> {
  const [dump, restore] =
    server.kind === 'postgres'
      ? ['pg_dump -U "$0" --no-owner "$1"', 'psql -X -q -v ON_ERROR_STOP=1 -U "$0" -d "$2"']
      : [
          '"$(command -v mariadb-dump || command -v mysqldump)" -u"$0" --single-transaction --routines --triggers --events "$1"',
          '"$(command -v mariadb || command -v mysql)" -u"$0" "$2"',
        ];
  // No pipefail in every image's sh (dash has none): the dump's status comes back on fd 3. What
  // the restore prints on stdout is the dump's statements echoed back (`set_config`), not news.
  const script = `dumped=$( { { ${dump}; echo $? >&3; } | ${restore} >/dev/null; } 3>&1 ) && [ "$dumped" = 0 ]`;
  await shell.run('docker', execArgs(server, ['sh', '-c', script, server.who.user, checked(from), checked(to)]));
}

/**
 * `to` as a copy of `from`. Postgres copies a database itself (`TEMPLATE`, near instant) but only
 * while nobody else is connected to it; then, and on MySQL, it goes through dump and restore.
 */
export async function copy(server: DatabaseServer, shell: Shell, from: string, to: string): Promise<void> {
  if (server.kind === 'postgres') {
    try {
      await create(server, to, from);
      return;
    } catch (err) {
      if (!/being accessed by other users/.test((err as Error).message)) throw err;
      shell.info(`${from} has open connections: copying it through pg_dump instead (it is not disturbed)`);
    }
  }
  await create(server, to);
  try {
    await copyByDump(server, shell, from, to);
  } catch (err) {
    await drop(server, to).catch(() => undefined);
    throw err;
  }
}
