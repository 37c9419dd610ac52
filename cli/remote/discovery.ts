// Finding `piko server` and talking plain HTTP to it: where it is and with which token, and
// asking it to cancel an operation.
import type { PikoConfig } from '../../core/config/config.js';
import { processAlive } from '../../core/system/process.js';
import { readServerInfo } from '../../core/server-info.js';

export type NetworkTransport = 'websocket' | 'sse';

export interface ServerAddress {
  url: string;
  token: string;
}

/**
 * `PIKO_SERVER_URL` (token from `PIKO_TOKEN`), else the config's `server.url`, else
 * `$PIKO_HOME/server.json` if its process still lives.
 */
export function findServer(home: string, config: PikoConfig = {}, env: NodeJS.ProcessEnv = process.env): ServerAddress | undefined {
  const info = readServerInfo(home);
  const url = env.PIKO_SERVER_URL ?? config.server?.url;
  // server.json's token goes only to server.json's own server, never to a URL a repository names.
  if (url) return { url, token: env.PIKO_TOKEN ?? (info && new URL(info.url).origin === new URL(url).origin ? info.token : '') };
  if (!info || !processAlive(info.pid)) return undefined;
  return { url: info.url, token: env.PIKO_TOKEN ?? info.token };
}

/** Asks the server to cancel `operation`; resolves with its answer. */
export async function requestCancel(address: ServerAddress, operation: string, by: string): Promise<{ ok: boolean; message: string }> {
  try {
    const response = await fetch(new URL(`/api/operations/${operation}/cancel`, address.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${address.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ by }),
    });
    const body = (await response.json()) as { error?: string };
    return { ok: response.ok, message: body.error ?? `asked the server to cancel ${operation}` };
  } catch (err) {
    return { ok: false, message: `could not reach the server at ${address.url}: ${(err as Error).message}` };
  }
}
