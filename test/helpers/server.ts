// A real `piko server` process on port 0, and a real `ws` client, for integration tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import WebSocket from 'ws';
import type { OperationMessage, ServerMessage } from '../../core/protocol/messages.js';
import { PIKO_BIN, type Sandbox } from './fixtures.js';

export interface RunningServer {
  url: string;
  token: string;
  pid: number;
  child: ResultPromise;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves once the server's output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const servers = new Set<RunningServer>();

/** Kills every server a test started and still runs. */
export async function stopServers(): Promise<void> {
  await Promise.all([...servers].map((s) => s.stop('SIGKILL')));
}

export async function startServer(box: Sandbox, env: Record<string, string> = {}): Promise<RunningServer> {
  const child = execa('node', [PIKO_BIN, 'server', '--port', '0'], {
    env: { ...box.env, ...env },
    reject: false,
    all: true,
    buffer: false,
  });
  let output = '';
  const waiters = new Set<() => void>();
  // A flood of output keeps only its start and its latest part, so a test's memory stays small.
  const LIMIT = 512 * 1024;
  child.all!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2 * LIMIT) output = `${output.slice(0, LIMIT)}\n[...]\n${output.slice(-LIMIT)}`;
    for (const wake of waiters) wake();
  });
  let gone = false;
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const settle = (error?: Error): void => {
        waiters.delete(wake);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(output);
      };
      const wake = (): void => {
        if (pattern.test(output)) settle();
        else if (gone) settle(new Error(`the server exited before its output matched ${pattern}:\n${output}`));
      };
      const timer = setTimeout(() => settle(new Error(`server output never matched ${pattern}:\n${output}`)), timeoutMs);
      waiters.add(wake);
      wake();
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Once the server is gone and its output all read, nothing more can match.
  child.once('close', () => {
    gone = true;
    for (const wake of waiters) wake();
  });
  const server: RunningServer = {
    url: '',
    token: '',
    pid: child.pid!,
    child,
    output: () => output,
    waitFor,
    async stop(signal = 'SIGTERM') {
      servers.delete(server);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  servers.add(server);
  const started = await Promise.race([waitFor(/listening on (http:\/\/\S+)/), exited.then(() => output)]);
  const match = /listening on (http:\/\/\S+)/.exec(started);
  if (!match) throw new Error(`server did not start:\n${output}`);
  const info = JSON.parse(readFileSync(join(box.home, 'server.json'), 'utf8')) as { url: string; token: string };
  server.url = match[1]!;
  server.token = info.token;
  return server;
}

export interface Received {
  messages: ServerMessage[];
  code: number;
  reason: string;
}

export interface ClientOptions {
  headers?: Record<string, string>;
  /** Called with each message as it arrives. */
  onMessage?: (message: ServerMessage, socket: WebSocket) => void;
}

/** Opens the endpoint of `action`, sends `request` as is, and collects messages until the server closes. */
export function connect(server: Pick<RunningServer, 'url' | 'token'>, path: string, options: ClientOptions = {}): WebSocket {
  const url = new URL(path, server.url);
  url.protocol = 'ws:';
  return new WebSocket(url, { headers: { authorization: `Bearer ${server.token}`, ...options.headers } });
}

export function exchange(socket: WebSocket, request: string | object, options: ClientOptions = {}): Promise<Received> {
  return new Promise((resolve, reject) => {
    const messages: ServerMessage[] = [];
    socket.on('open', () => socket.send(typeof request === 'string' ? request : JSON.stringify(request)));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      messages.push(message);
      options.onMessage?.(message, socket);
    });
    socket.on('error', reject);
    socket.on('close', (code, reason) => resolve({ messages, code, reason: String(reason) }));
  });
}

/** A request over a fresh WebSocket, start to close. */
export function request(server: Pick<RunningServer, 'url' | 'token'>, action: string, body: string | object, options: ClientOptions = {}): Promise<Received> {
  return exchange(connect(server, `/api/environments/${action}/stream`, options), body, options);
}

/** GET with the server's token unless `headers` says otherwise. */
export async function get(server: Pick<RunningServer, 'url' | 'token'>, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, server.url), { headers: { authorization: `Bearer ${server.token}`, ...headers } });
  return { status: response.status, body: (await response.json()) as unknown };
}

/**
 * What a client that fell behind received, checked against the operation's whole log: each
 * message it got is the logged message of that seq, in order; everything but log lines reached
 * it; and the log lines it did not get add up to the counts its `dropped` notices gave. Returns
 * how many lines were dropped.
 */
export function expectAccountedFor(received: ServerMessage[], logged: OperationMessage[]): number {
  expect(logged.every((m, i) => m.seq === i)).toBe(true);
  const sequenced = received.filter((m): m is OperationMessage => m.type !== 'dropped' && m.type !== 'logs');
  let outOfOrder = 0;
  let unlike = 0;
  sequenced.forEach((m, i) => {
    if (i > 0 && m.seq <= sequenced[i - 1]!.seq) outOfOrder++;
    const original = logged[m.seq];
    if (m.type === 'log' && !(original?.type === 'log' && original.source === m.source && original.stream === m.stream && original.data === m.data)) unlike++;
  });
  expect({ outOfOrder, unlike }).toEqual({ outOfOrder: 0, unlike: 0 });
  expect(sequenced.filter((m) => m.type !== 'log')).toEqual(logged.filter((m) => m.type !== 'log'));
  const dropped = received.reduce((n, m) => n + (m.type === 'dropped' ? m.count : 0), 0);
  expect(sequenced.filter((m) => m.type === 'log').length + dropped).toBe(logged.filter((m) => m.type === 'log').length);
  return dropped;
}
