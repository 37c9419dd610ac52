// Where a running `piko server` can be found: `$PIKO_HOME/server.json`. Kept apart from the
// server itself so that reading it loads nothing heavy.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a client needs to reach the server; written to `$PIKO_HOME/server.json` (mode 0600). */
export interface ServerInfo {
  url: string;
  token: string;
  pid: number;
  startedAt: string;
}

export const serverInfoPath = (home: string): string => join(home, 'server.json');

export function readServerInfo(home: string): ServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(serverInfoPath(home), 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}

/** Writes server.json whole (a reader never sees half of it), readable by its owner only. */
export function writeServerInfo(home: string, info: ServerInfo): void {
  const path = serverInfoPath(home);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}
