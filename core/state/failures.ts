// What goes wrong with the state database, said with its path and what to do, instead of
// SQLite's bare "unable to open database file".
import type { Database as DB } from 'better-sqlite3';
import { PikoError } from '../errors.js';

/** SQLite's primary result code (`SQLITE_IOERR_WRITE` → `SQLITE_IOERR`) → what it means here. */
const MEANINGS: Record<string, string> = {
  SQLITE_CANTOPEN: 'cannot be opened: check that its folder exists and that you may write to it',
  SQLITE_NOTADB: 'is not a SQLite database: move it aside (piko then starts an empty one) or restore it from a backup',
  SQLITE_CORRUPT: 'is damaged: move it aside (piko then starts an empty one) or restore it from a backup',
  SQLITE_FULL: 'cannot be written, the disk is full: free some space and try again',
  SQLITE_READONLY: 'is read-only: make it (and its folder) writable for you',
  SQLITE_PERM: 'may not be written: make it (and its folder) writable for you',
  SQLITE_IOERR: 'could not be read or written (a disk error, or the file was removed)',
};

export function stateError(path: string, err: unknown): PikoError {
  if (err instanceof PikoError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const meaning = typeof code === 'string' ? MEANINGS[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')] : undefined;
  return new PikoError('PIKO_ERR_STATE', `the state database ${path} ${meaning ?? 'failed'} (${message})`, { cause: err });
}

/**
 * `db`, with every failure of it (opening statements, running them, transactions and their
 * commit) turned into a stateError that names `path`.
 */
export function guarded(db: DB, path: string): DB {
  const call = (run: () => unknown): unknown => {
    let result: unknown;
    try {
      result = run();
    } catch (err) {
      // SQLite's own failures name the file; anything else (a bug, a PikoError of a transaction) stays as it is.
      const code = (err as { code?: unknown }).code;
      throw typeof code === 'string' && code.startsWith('SQLITE_') ? stateError(path, err) : err;
    }
    // What the database hands back that can fail later is guarded too: statements and
    // transactions (whose commit can fail), not rows.
    if (typeof result === 'function') return transaction(result as Transaction);
    if (typeof result === 'object' && result !== null && result.constructor.name === 'Statement') return methods(result);
    return result;
  };
  const methods = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, key) {
        if (target === db && key === 'prepare') return prepare;
        const value = Reflect.get(object, key, object) as unknown;
        return typeof value === 'function' ? (...args: unknown[]) => call(() => Reflect.apply(value, object, args)) : value;
      },
    });
  // Each statement is compiled once and kept (a server runs the same few for every operation;
  // none of them is switched to another mode, such as pluck, that would change it for the next user).
  const statements = new Map<string, unknown>();
  const prepare = (sql: string): unknown => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = call(() => db.prepare(sql));
      statements.set(sql, statement);
    }
    return statement;
  };
  const transaction = (run: Transaction): Transaction =>
    Object.assign((...args: unknown[]) => call(() => run(...args)), {
      deferred: (...args: unknown[]) => call(() => run.deferred(...args)),
      immediate: (...args: unknown[]) => call(() => run.immediate(...args)),
      exclusive: (...args: unknown[]) => call(() => run.exclusive(...args)),
    });
  return methods(db);
}

type Transaction = ((...args: unknown[]) => unknown) & Record<'deferred' | 'immediate' | 'exclusive', (...args: unknown[]) => unknown>;
