// Server-Sent Events, re-attaching with replay, and cancel, against a real server process.
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createParser } from 'eventsource-parser';
import { readOperationLog } from '../../../core/state/operation-log.js';
import type { OperationMessage, ServerMessage } from '../../../core/protocol/messages.js';
import { cleanup, gates, type Gates, initProject, sandbox, type Sandbox, waitForFile, waitUntilGone } from '../../helpers/fixtures.js';
import { sseEvent } from '../../../transports/sse.js';
import { connect, exchange, expectAccountedFor, request, startServer, stopServers, type RunningServer } from '../../helpers/server.js';

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

/**
 * An SSE request read the way `curl -N` would: the raw body, to the end. `onText` sees the body
 * so far each time more of it arrives.
 */
async function rawEvents(
  server: RunningServer,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  onText?: (text: string) => void,
): Promise<RawEvents> {
  const response = await fetch(new URL(path, server.url), {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${server.token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body ?? []) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    onText?.(text);
  }
  text += decoder.decode();
  return { status: response.status, contentType: response.headers.get('content-type'), text };
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
    // The setup says nothing until the test has seen a comment line come while it ran.
    const gate = gates();
    await initProject(box, { '.piko.yml': `scripts:\n  setup: ${gate.wait('gate', 30)}\n` });
    const server = await startServer(box, { PIKO_PING_INTERVAL_MS: '100' });
    const setupStarted = /"name":"script:setup","state":"start"/;
    const raw = await rawEvents(server, '/api/environments/create/events', { method: 'POST', body: { action: 'create', environment: 'quiet' } }, (text) => {
      const started = text.search(setupStarted);
      if (started >= 0 && /^: keep-alive$/m.test(text.slice(started))) gate.open();
    });
    expect(raw.text).toMatch(/"name":"script:setup","state":"start"[^]*\n: keep-alive\n[^]*"name":"script:setup","state":"end"/);
    expect(parse(raw.text).at(-1)!.message).toMatchObject({ type: 'complete', success: true });
  });

  it('never lets a reader that stops reading hold up the operation, and tells it what it missed', async () => {
    const box = sandbox();
    // Several times what the server queues for one reader and the sockets' buffers hold.
    // (How much memory the server needs meanwhile: bench/, "memory".)
    const line = 'y'.repeat(90);
    await initProject(box, { '.piko.yml': `scripts:\n  setup: yes ${line} | head -n 400000\n` });
    const server = await startServer(box);
    const url = new URL('/api/environments/create/events', server.url);
    const body = JSON.stringify({ action: 'create', environment: 'stalled' });
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${server.token}` } },
        (res) => {
          res.pause();
          // It reads on only once the operation has ended without it.
          void server.waitFor(/create app\/stalled: succeeded/, 60_000).then(() => {
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', resolve);
            res.resume();
          }, reject);
        },
      );
      req.end(body);
    });
    await ended;
    const events = parse(Buffer.concat(chunks).toString());
    const dropped = events.filter((e) => e.message.type === 'dropped');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.id).toBeUndefined();
    expect(events.filter((e) => e.id !== undefined).every((e) => Number(e.id) === (e.message as OperationMessage).seq)).toBe(true);
    // Every message the operation logged reached the reader in order, exactly as logged, or was
    // a log line counted as dropped.
    const operation = (events[0]!.message as { operation: string }).operation;
    const logged = readOperationLog(join(box.home, 'logs', `${operation}.ndjson`));
    expect(expectAccountedFor(events.map((e) => e.message), logged)).toBeGreaterThan(0);
    expect(logged.filter((m) => m.type === 'log' && m.source === 'script:setup')).toHaveLength(400_000);
    expect(events.at(-1)!.message).toMatchObject({ type: 'complete', success: true });
  });
});

describe('an event', () => {
  it('carries its seq as its id; a batch the seq of its last line, so resuming from it repeats none of it', () => {
    expect(sseEvent({ type: 'stage', name: 'git', state: 'start', seq: 4 })).toBe('id: 4\ndata: {"type":"stage","name":"git","state":"start","seq":4}\n\n');
    const batch = sseEvent({ type: 'logs', source: 'git', stream: 'stdout', data: 'a\nb\nc\n', seq: 12, count: 3 });
    expect(parse(batch)).toEqual([{ id: '14', message: expect.objectContaining({ type: 'logs', seq: 12, count: 3 }) }]);
    expect(sseEvent({ type: 'dropped', operation: 'op_1', count: 2 })).toBe('data: {"type":"dropped","operation":"op_1","count":2}\n\n');
  });
});

describe('re-attaching', () => {
  /**
   * Starts a create whose setup prints `tick 1` to `tick 5`, then waits for the test to open its
   * gate before it prints `tick 6` to `tick 25`; resolves once the first client has seen tick 5.
   */
  async function running(box: Sandbox): Promise<{ server: RunningServer; operation: string; first: Promise<ServerMessage[]>; gate: Gates }> {
    const gate = gates();
    await initProject(box, {
      '.piko.yml': `scripts:\n  setup: for i in $(seq 1 5); do echo "tick $i"; done; ${gate.wait()}; for i in $(seq 6 25); do echo "tick $i"; done\n`,
    });
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
    return { server, operation, first, gate };
  }

  const isTick5 = (m: ServerMessage) => m.type === 'log' && m.data === 'tick 5\n';

  it('over WebSocket: replays after `since`, then follows live, with no gap and no duplicate', async () => {
    const box = sandbox();
    const { server, operation, first, gate } = await running(box);
    // Ticks 6 to 25 are printed only after this client has had the replay up to tick 5.
    const later = await exchange(connect(server, `/api/operations/${operation}/stream?since=3`), '', {
      onMessage: (m) => isTick5(m) && gate.open(),
    });
    const all = await first;
    expect(later.messages).toEqual(all.filter((m) => (m as OperationMessage).seq > 3));
    expect(later.messages.filter((m) => m.type === 'log' && m.source === 'script:setup')).toHaveLength(25);
    expect(later.messages.at(-1)).toMatchObject({ type: 'complete', success: true });
  });

  it('over SSE: Last-Event-ID resumes after that event; ?since= does too; a finished operation replays and ends', async () => {
    const box = sandbox();
    const { server, operation, first, gate } = await running(box);
    const resumed = await rawEvents(server, `/api/operations/${operation}/events`, { headers: { 'last-event-id': '6' } }, (text) => {
      if (text.includes('"data":"tick 5\\n"')) gate.open();
    });
    const all = await first;
    const events = parse(resumed.text);
    expect(events.map((e) => e.message)).toEqual(all.filter((m) => (m as OperationMessage).seq > 6));
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 7));
    expect(events.filter((e) => e.message.type === 'log' && e.message.source === 'script:setup')).toHaveLength(25);

    const replayed = parse((await rawEvents(server, `/api/operations/${operation}/events?since=20`)).text);
    expect(replayed.map((e) => e.message)).toEqual(all.filter((m) => (m as OperationMessage).seq > 20));
    const whole = parse((await rawEvents(server, `/api/operations/${operation}/events`)).text);
    expect(whole.map((e) => e.message)).toEqual(all);
    expect(await server.waitFor(/GET \/api\/operations\/op_\w+\/events 200 sse/)).toBeTruthy();
  });

  it('16 clients attached to one running operation each get every message', async () => {
    const box = sandbox();
    const { server, operation, first, gate } = await running(box);
    // The rest is printed once every one of them has caught up to tick 5.
    let caughtUp = 0;
    const followers = await Promise.all(
      Array.from({ length: 16 }, () =>
        exchange(connect(server, `/api/operations/${operation}/stream`), '', {
          onMessage: (m) => isTick5(m) && ++caughtUp === 16 && gate.open(),
        }),
      ),
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
    // A setup that would wait far longer than the test, unless stopped.
    const gate = gates();
    const repo = await initProject(box, { '.piko.yml': `scripts:\n  setup: echo $$ > ../setup.pid; echo started; ${gate.wait()}\n` });
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
    const setup = Number(await waitForFile(join(repo, '.piko', 'worktrees', 'setup.pid')));
    const answer = await fetch(new URL(`/api/operations/${operation}/cancel`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ by: 'a test' }),
    });
    expect(answer.status).toBe(202);
    const { messages } = await stream;
    await waitUntilGone(setup, 'the cancelled setup script');
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
