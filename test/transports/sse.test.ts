// Server-Sent Events, re-attaching with replay, and cancel, against a real server process.
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createParser } from 'eventsource-parser';
import { join } from 'node:path';
import { readOperationLog } from '../../core/state/operation-log.js';
import type { OperationMessage, ServerMessage } from '../../core/protocol/messages.js';
import { cleanup, initProject, sandbox, type Sandbox } from '../helpers/fixtures.js';
import { connect, exchange, request, startServer, stopServers, type RunningServer } from '../helpers/server.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

interface RawEvents {
  status: number;
  contentType: string | null;
  /** The body exactly as it came. */
  text: string;
}

/** An SSE request read the way `curl -N` would: the raw body, to the end. */
async function rawEvents(server: RunningServer, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RawEvents> {
  const response = await fetch(new URL(path, server.url), {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${server.token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The same body through eventsource-parser, as the CLI reads it. */
function parse(text: string): { id: string | undefined; message: ServerMessage }[] {
  const events: { id: string | undefined; message: ServerMessage }[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ id: e.id, message: JSON.parse(e.data) as ServerMessage }) });
  parser.feed(text);
  return events;
}

describe('SSE', () => {
  it('streams a create as text/event-stream: every event id: <seq> and data: <the JSON message>', async () => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo hello; echo warn >&2\n' });
    const server = await startServer(box);
    const raw = await rawEvents(server, '/api/environments/create/events', {
      method: 'POST',
      body: { action: 'create', project: 'app', environment: 'sse-one', attach: true },
    });
    expect(raw.status).toBe(200);
    expect(raw.contentType).toMatch(/^text\/event-stream/);
    // Raw wire format, as curl shows it.
    expect(raw.text).toMatch(/^id: 0\ndata: \{"type":"accepted","operation":"op_[0-9a-f]{12}"/);
    expect(raw.text).toContain('data: {"type":"log","source":"script:setup","stream":"stdout","data":"hello\\n","seq":');
    const events = parse(raw.text);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => String(i)));
    expect(events.map((e) => (e.message as OperationMessage).seq)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)!.message).toMatchObject({ type: 'complete', success: true, environment: { name: 'sse-one' } });
    await server.waitFor(/POST \/api\/environments\/create\/events 200 sse/);
  });

  it('answers bad input with one failed complete event and refuses requests without the token', async () => {
    const box = sandbox();
    await initProject(box, {});
    const server = await startServer(box);
    const bad = await rawEvents(server, '/api/environments/create/events', { method: 'POST', body: { action: 'create', environment: '../x' } });
    expect(parse(bad.text)).toEqual([
      { id: '0', message: expect.objectContaining({ type: 'complete', success: false, error: expect.stringContaining('is not allowed') }) },
    ]);
    const unauthorized = await rawEvents(server, '/api/environments/create/events', {
      method: 'POST',
      body: { action: 'create', environment: 'x' },
      headers: { authorization: 'Bearer nope' },
    });
    expect(unauthorized.status).toBe(401);
    const foreign = await rawEvents(server, '/api/environments/create/events', {
      method: 'POST',
      body: { action: 'create', environment: 'x' },
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });

  it('keeps a quiet stream open with comment lines', async () => {
    const box = sandbox();
    await initProject(box, { '.piko.yml': 'scripts:\n  setup: sleep 1\n' });
    const server = await startServer(box, { PIKO_PING_INTERVAL_MS: '100' });
    const raw = await rawEvents(server, '/api/environments/create/events', { method: 'POST', body: { action: 'create', environment: 'quiet' } });
    expect(raw.text.match(/^: keep-alive$/gm)!.length).toBeGreaterThanOrEqual(5);
    expect(parse(raw.text).at(-1)!.message).toMatchObject({ type: 'complete', success: true });
  });

  it('never lets a reader that stops reading hold up the operation or grow the server', async () => {
    const box = sandbox();
    const line = 'y'.repeat(90);
    await initProject(box, { '.piko.yml': `scripts:\n  setup: yes ${line} | head -n 1000000\n` });
    const server = await startServer(box);
    const url = new URL('/api/environments/create/events', server.url);
    const body = JSON.stringify({ action: 'create', environment: 'stalled' });
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${server.token}` } },
        (res) => {
          res.pause();
          void server.waitFor(/create app\/stalled: succeeded/, 60_000).then(() => {
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', resolve);
            res.resume();
          }, reject);
        },
      );
      req.end(body);
    });
    await server.waitFor(/create app\/stalled: succeeded/, 60_000);
    const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;
    expect(peakMb).toBeLessThan(300);
    await ended;
    const events = parse(Buffer.concat(chunks).toString());
    const dropped = events.filter((e) => e.message.type === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.id).toBeUndefined();
    const logs = events.filter((e) => e.message.type === 'log').length;
    const operation = (events[0]!.message as { operation: string }).operation;
    const logged = readOperationLog(join(box.home, 'logs', `${operation}.ndjson`)).filter((m) => m.type === 'log').length;
    expect(logs + (dropped[0]!.message as { count: number }).count).toBe(logged);
    expect(logged).toBeGreaterThan(1_000_000);
    expect(events.at(-1)!.message).toMatchObject({ type: 'complete', success: true });
  });
});

describe('re-attaching', () => {
  /** Starts a create whose setup prints a line every 100 ms for a while, and waits until it runs. */
  async function running(box: Sandbox): Promise<{ server: RunningServer; operation: string; first: Promise<ServerMessage[]> }> {
    await initProject(box, { '.piko.yml': 'scripts:\n  setup: for i in $(seq 1 25); do echo "tick $i"; sleep 0.1; done\n' });
    const server = await startServer(box);
    let operation = '';
    let resolveStarted: () => void;
    const started = new Promise<void>((resolve) => (resolveStarted = resolve));
    const first = request(server, 'create', { action: 'create', environment: 'watched' }, {
      onMessage: (m) => {
        if (m.type === 'accepted') operation = m.operation;
        if (m.type === 'log' && m.data === 'tick 5\n') resolveStarted();
      },
    }).then((r) => r.messages);
    await started;
    return { server, operation, first };
  }

  it('over WebSocket: replays after `since`, then follows live, with no gap and no duplicate', async () => {
    const box = sandbox();
    const { server, operation, first } = await running(box);
    const later = await exchange(connect(server, `/api/operations/${operation}/stream?since=3`), '');
    const all = await first;
    expect(later.messages).toEqual(all.filter((m) => (m as OperationMessage).seq > 3));
    expect(later.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
  });

  it('over SSE: Last-Event-ID resumes after that event; ?since= does too; a finished operation replays and ends', async () => {
    const box = sandbox();
    const { server, operation, first } = await running(box);
    const resumed = await rawEvents(server, `/api/operations/${operation}/events`, { headers: { 'last-event-id': '6' } });
    const all = await first;
    const events = parse(resumed.text);
    expect(events.map((e) => e.message)).toEqual(all.filter((m) => (m as OperationMessage).seq > 6));
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 7));

    const replayed = parse((await rawEvents(server, `/api/operations/${operation}/events?since=20`)).text);
    expect(replayed.map((e) => e.message)).toEqual(all.filter((m) => (m as OperationMessage).seq > 20));
    const whole = parse((await rawEvents(server, `/api/operations/${operation}/events`)).text);
    expect(whole.map((e) => e.message)).toEqual(all);
    expect(await server.waitFor(/GET \/api\/operations\/op_\w+\/events 200 sse/)).toBeTruthy();
  });

  it('16 clients attached to one running operation each get every message', async () => {
    const box = sandbox();
    const { server, operation, first } = await running(box);
    const followers = await Promise.all(
      Array.from({ length: 16 }, () => exchange(connect(server, `/api/operations/${operation}/stream`), '')),
    );
    const all = await first;
    for (const follower of followers) expect(follower.messages).toEqual(all);
  });

  it('answers an unknown or malformed operation id with 404', async () => {
    const box = sandbox();
    await initProject(box, {});
    const server = await startServer(box);
    expect((await rawEvents(server, '/api/operations/op_000000000000/events')).status).toBe(404);
    expect((await rawEvents(server, '/api/operations/..%2F..%2Fstate/events')).status).toBe(404);
    const status = await new Promise<number>((resolve) => {
      const socket = connect(server, '/api/operations/op_ffffffffffff/stream');
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });
});

describe('cancel', () => {
  it('POST /api/operations/{id}/cancel stops the running stage, rolls back, and ends the stream with one complete saying who cancelled', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo started; sleep 30\n' });
    const server = await startServer(box);
    let operation = '';
    let started: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const stream = request(server, 'create', { action: 'create', environment: 'doomed' }, {
      onMessage: (m) => {
        if (m.type === 'accepted') operation = m.operation;
        if (m.type === 'log' && m.data === 'started\n') started();
      },
    });
    await running;
    const begun = Date.now();
    const answer = await fetch(new URL(`/api/operations/${operation}/cancel`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ by: 'a test' }),
    });
    expect(answer.status).toBe(202);
    const { messages } = await stream;
    expect(Date.now() - begun).toBeLessThan(5000);
    const completes = messages.filter((m) => m.type === 'complete');
    expect(completes).toEqual([expect.objectContaining({ success: false, error: 'cancelled by a test', stage: 'script:setup', code: 'PIKO_ERR_CANCELLED' })]);
    expect(messages).toContainEqual(expect.objectContaining({ type: 'log', source: 'piko', data: 'rolling back git\n' }));
    expect(JSON.parse((await box.piko(['list', '--json'], repo)).stdout)).toEqual([]);

    const again = await fetch(new URL(`/api/operations/${operation}/cancel`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(again.status).toBe(409);
    const unknown = await fetch(new URL('/api/operations/op_123456789abc/cancel', server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(unknown.status).toBe(404);
  });
});
