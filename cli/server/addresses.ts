// Where `piko server` listens and which names a client may use for it (the Host check).
import { hostname, networkInterfaces } from 'node:os';
import { LOOPBACK_HOSTS } from '../../transports/guard.js';

export const DEFAULT_PORT = 19876;
export const DEFAULT_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host.replace(/^\[(.*)\]$/, '$1').toLowerCase());
}

/** Every name a client may use for a server bound to `host`. */
export function hostsFor(host: string): string[] {
  if (isLoopback(host)) return LOOPBACK_HOSTS;
  const names = new Set([...LOOPBACK_HOSTS, host.toLowerCase(), hostname().toLowerCase()]);
  if (host === '0.0.0.0' || host === '::') {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address.toLowerCase());
    }
  }
  return [...names];
}

/** The URL clients use for a server bound to `host` on `port`. */
export function serverUrl(host: string, port: number): string {
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${urlHost}:${port}`;
}
