// Opening the state database: PIKO_HOME and the file made private to their user, better-sqlite3's
// addon found without a search, and what goes wrong said with the path to fix.
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { PikoError } from '../errors.js';
import { stateError } from './failures.js';

/** better-sqlite3's addon, named: otherwise it searches the file system for it each time. */
const nativeBinding = ((): string | undefined => {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
})();

/**
 * PIKO_HOME and the database are private to their user (they hold every project's paths,
 * branches and errors): both are made so, and a database left readable by others is tightened.
 */
export function openPrivate(home: string, path: string): Database.Database {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new PikoError('PIKO_ERR_STATE', `PIKO_HOME ${home} cannot be made (${(err as Error).message}): point PIKO_HOME at a folder you may write to`, { cause: err });
  }
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch {
      // Missing, or not ours to change: opening it says what matters.
    }
  }
  try {
    return new Database(path, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw stateError(path, err);
  }
}
