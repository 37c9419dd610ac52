// The built-in deliveries: `websocket` and `sse` carry the operation through `piko server` (or
// give way to running it here when no server answers), `stdout` always runs it here.
import { findServer, type NetworkTransport } from '../remote/discovery.js';
import type { Delivery } from './registry.js';
import { viaServer } from './via-server.js';

function throughServer(name: NetworkTransport, description: string): Delivery {
  return {
    name,
    description,
    async deliver(context) {
      const address = findServer(context.home, context.config);
      const code = address ? await viaServer(address, name, context) : undefined;
      // Only a client that says which transport it speaks is redirected; this one does not.
      return typeof code === 'number' ? code : undefined;
    },
  };
}

export const BUILTIN_DELIVERIES: readonly Delivery[] = [
  throughServer('websocket', 'through `piko server` over a WebSocket; here when no server answers'),
  throughServer('sse', 'through `piko server` as Server-Sent Events; here when no server answers'),
  { name: 'stdout', description: 'here, in this process, even when a server runs', deliver: (context) => context.runHere() },
];
