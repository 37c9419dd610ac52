// Host ports: environment `id` owns the block 10000 + 100 × id … + 99, and a container port
// prefers the port of that block ending in its last two digits (web:80 of env 1 → 10180).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { PikoError } from '../../core/errors.js';
import type { PortBinding } from '../../core/protocol/messages.js';

export interface PortRequest {
  service: string;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** The address the port is published on, when the compose file names one. */
  hostIp?: string | undefined;
  /** How many containers of the service publish it: each needs a host port of its own. */
  replicas?: number;
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
 * (wrapping around inside the block). A request for several replicas gets that many
 * consecutive free ports (a range docker hands out one per container).
 */
export async function allocatePorts(
  id: number,
  requests: readonly PortRequest[],
  isFree: PortProbe = portIsFree,
): Promise<PortBinding[]> {
  const { first, last } = portBlock(id);
  const taken = new Set<string>();
  const bindings: PortBinding[] = [];
  const available = async (port: number, request: PortRequest): Promise<boolean> =>
    !taken.has(`${port}/${request.protocol}`) && (await isFree(port, request.protocol, request.hostIp));
  for (const request of requests) {
    const count = request.replicas ?? 1;
    let found: number | undefined;
    for (let step = 0; step < 100 && found === undefined; step++) {
      const start = first + ((request.containerPort + step) % 100);
      if (start + count - 1 > last) continue;
      let free = true;
      for (let port = start; port < start + count && free; port++) free = await available(port, request);
      if (free) found = start;
    }
    if (found === undefined) {
      const what = count > 1 ? `${count} consecutive free ports (one per replica)` : 'no free port';
      throw new PikoError(
        'PIKO_ERR_PORTS_EXHAUSTED',
        `${count > 1 ? `no ${what}` : what} left in ${first}-${last} for ${request.service}:${request.containerPort}/${request.protocol}: ` +
          'each environment has 100 host ports for all its published ports; publish fewer, or stop what listens on the ports taken',
      );
    }
    for (let port = found; port < found + count; port++) taken.add(`${port}/${request.protocol}`);
    bindings.push({
      service: request.service,
      containerPort: request.containerPort,
      hostPort: found,
      protocol: request.protocol,
      ...(count > 1 ? { replicas: count } : {}),
    });
  }
  return bindings;
}
