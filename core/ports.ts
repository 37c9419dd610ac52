// Host ports: environment `id` owns the block 10000 + 100 × id … + 99, and a container port
// prefers the port of that block ending in its last two digits (web:80 of env 1 → 10180).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { PikoError } from './errors.js';
import type { PortBinding } from './protocol.js';

export interface PortRequest {
  service: string;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** The address the port is published on, when the compose file names one. */
  hostIp?: string | undefined;
}

export type PortProbe = (port: number, protocol: 'tcp' | 'udp', hostIp?: string) => Promise<boolean>;

export function portBlock(id: number): { first: number; last: number } {
  const first = 10000 + 100 * id;
  const last = first + 99;
  if (last > 65535) {
    throw new PikoError(
      'PIKO_ERR_PORTS_EXHAUSTED',
      `environment id ${id} has no port block: 10000 + 100 × ${id} + 99 = ${last} is past 65535`,
    );
  }
  return { first, last };
}

/** True when nothing listens on `port` (checked by binding it for a moment). */
export const portIsFree: PortProbe = (port, protocol, hostIp) =>
  new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket(hostIp?.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, hostIp, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: hostIp ?? '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });

/**
 * Gives every request a host port of the environment's block: its preferred port, or on a
 * clash with another request or a port something already listens on, the next free one
 * (wrapping around inside the block).
 */
export async function allocatePorts(
  id: number,
  requests: readonly PortRequest[],
  isFree: PortProbe = portIsFree,
): Promise<PortBinding[]> {
  const { first } = portBlock(id);
  const taken = new Set<string>();
  const bindings: PortBinding[] = [];
  for (const request of requests) {
    let found: number | undefined;
    for (let step = 0; step < 100 && found === undefined; step++) {
      const port = first + ((request.containerPort + step) % 100);
      const key = `${port}/${request.protocol}`;
      if (taken.has(key)) continue;
      if (await isFree(port, request.protocol, request.hostIp)) found = port;
    }
    if (found === undefined) {
      throw new PikoError(
        'PIKO_ERR_PORTS_EXHAUSTED',
        `no free port left in ${first}-${first + 99} for ${request.service}:${request.containerPort}/${request.protocol}`,
      );
    }
    taken.add(`${found}/${request.protocol}`);
    bindings.push({
      service: request.service,
      containerPort: request.containerPort,
      hostPort: found,
      protocol: request.protocol,
    });
  }
  return bindings;
}
