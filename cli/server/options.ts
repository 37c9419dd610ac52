// The settings of `piko server`, each with its default.
import type { BackpressureOptions } from '../../transports/channel.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './addresses.js';
import { serverOutput, type ServerLogOutput } from './log.js';
import { defaultUiDir } from './static.js';

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
  /** How long a dashboard sign-in code stays good. Default PIKO_UI_CODE_TTL_MS (for tests), else 60000 ms. */
  codeTtlMs?: number;
  /** Where the dashboard's page is. Default PIKO_UI_DIR (for tests and working on the page), else dist/bin/ui/. */
  uiDir?: string;
  /** Where the access log and operation output go. Default: process.stdout, dropping operation output it cannot keep up with. */
  output?: ServerLogOutput;
  version?: string;
}

export type ResolvedOptions = Required<Omit<ServerOptions, 'backpressure' | 'version'>> & { version: string; backpressure: BackpressureOptions };

/** A dashboard session lasts this long from its sign-in. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/** PIKO_UI_CODE_TTL_MS, when it is a whole number of milliseconds (0: every code has expired when it is made). */
function codeTtlFromEnv(): number | undefined {
  const text = process.env.PIKO_UI_CODE_TTL_MS;
  const value = text === undefined || text.trim() === '' ? NaN : Number(text);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

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
    codeTtlMs: options.codeTtlMs ?? codeTtlFromEnv() ?? 60_000,
    uiDir: options.uiDir ?? defaultUiDir(),
  };
}
