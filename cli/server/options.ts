// The settings of `piko server`, each with its default.
import type { BackpressureOptions } from '../../transports/channel.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './addresses.js';
import { serverOutput, type ServerLogOutput } from './log.js';

export interface ServerOptions {
  home: string;
  /** Default 127.0.0.1. Anything else makes the server reachable from other machines. */
  host?: string;
  /** Default 19876; 0 picks a free port. */
  port?: number;
  /** How often clients are pinged; one that misses a pong is dropped. Default 30000 ms. */
  pingIntervalMs?: number;
  /** How long a shutdown waits for running operations before cancelling them. Default 30000 ms. */
  shutdownTimeoutMs?: number;
  /** How long a new WebSocket may take to send its request. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** How long a client may take to send a request's headers before it is dropped (408). Default 10000 ms. */
  headersTimeoutMs?: number;
  /**
   * How many connections are open at most. A new one past it takes the place of the one idle the
   * longest (it has not sent a complete request, or waits between requests); only when all are
   * doing work is it answered 503 and closed. Default 128.
   */
  maxConnections?: number;
  backpressure?: BackpressureOptions;
  /** Where the access log and operation output go. Default: process.stdout, dropping operation output it cannot keep up with. */
  output?: ServerLogOutput;
  version?: string;
}

export type ResolvedOptions = Required<Omit<ServerOptions, 'backpressure' | 'version'>> & { version: string; backpressure: BackpressureOptions };

export function withDefaults(options: ServerOptions): ResolvedOptions {
  return {
    home: options.home,
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 30_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    maxConnections: options.maxConnections ?? 128,
    output: options.output ?? serverOutput(),
    version: options.version ?? '0.0.0',
    backpressure: options.backpressure ?? {},
  };
}
