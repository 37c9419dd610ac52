// `GET /api/events`, the dashboard's stream of changes, against a real server: a snapshot first,
// then what changes, whether this server made the change or another piko process did; and a
// client that comes back with Last-Event-ID gets only what it missed.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { cleanup, initProject, sandbox } from '../../helpers/fixtures.js';
import { startServer, stopServers } from '../../helpers/server.js';
import { FeedClient } from '../../../cli/server/changes.js';
import { follow, fromPage, raw, signIn, type FeedEvent } from './dashboard-helpers.js';

afterEach(async () => {
  await stopServers();
  cleanup();
});

const operationOf = (environment: string, status: string, kind = 'create') => (e: FeedEvent) =>
  e.event === 'operation' && e.data.environment === environment && e.data.operation.status === status && e.data.operation.kind === kind;
const environmentOf = (name: string, status: string) => (e: FeedEvent) =>
  e.event === 'environment' && e.data.environment.name === name && e.data.environment.status === status;

describe('the stream of changes', () => {
  it('starts with a snapshot, then sends the operations and environments of creates made here and by a local CLI', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  setup: echo set up\n' });
    const server = await startServer(box);
    const signed = await signIn(server);
    const feed = follow(server, { ...signed, 'sec-fetch-site': 'same-origin' });
    expect(await feed.status).toBe(200);
    const snapshot = await feed.waitFor('a snapshot', () => true);
    expect(snapshot).toEqual({ id: expect.stringMatching(/^\d+$/), event: 'snapshot', data: { version: '0.1.0', projects: [{ name: 'app', root: repo, environments: [] }] } });

    // Through this server, as the page starts one.
    const created = await raw(server, '/api/environments/create/events?batch=1', {
      method: 'POST',
      headers: fromPage(server, signed),
      body: { action: 'create', project: 'app', environment: 'here' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toContain('"type":"complete","success":true');
    const started = await feed.waitFor('the create starting', operationOf('here', 'running'));
    expect(started.data).toEqual({
      project: 'app',
      environment: 'here',
      operation: { id: expect.stringMatching(/^op_/), kind: 'create', status: 'running', startedAt: expect.any(String), endedAt: null, error: null, stage: null, durationMs: null },
    });
    await feed.waitFor('the environment creating', environmentOf('here', 'creating'));
    const ended = await feed.waitFor('the create ending', operationOf('here', 'succeeded'));
    expect(ended.data.operation).toMatchObject({ id: started.data.operation.id, kind: 'create', endedAt: expect.any(String), durationMs: expect.any(Number) });
    const ready = await feed.waitFor('the environment ready', environmentOf('here', 'ready'));
    expect(ready.data).toEqual({
      project: 'app',
      environment: expect.objectContaining({ name: 'here', project: 'app', mode: 'simple', ports: [], marks: [], lastOperation: expect.objectContaining({ id: started.data.operation.id, status: 'succeeded' }) }),
    });

    // By another piko process, which writes the state database and tells nobody.
    const local = await box.piko(['create', 'there', '--transport', 'stdout'], repo);
    expect(local.exitCode).toBe(0);
    await feed.waitFor('the local create ending', operationOf('there', 'succeeded'));
    await feed.waitFor('the local environment ready', environmentOf('there', 'ready'));

    const ids = feed.events.map((e) => Number(e.id));
    expect(ids.slice(1)).toEqual([...ids.slice(1)].sort((a, b) => a - b));
    expect(new Set(ids.slice(1)).size).toBe(ids.length - 1);
    expect(feed.events.filter((e) => e.event === 'snapshot')).toHaveLength(1);
    feed.close();
  });

  it('replays what a client missed when it comes back with Last-Event-ID, and a snapshot when it cannot', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const headers = { authorization: `Bearer ${server.token}` };
    const first = follow(server, headers);
    await first.waitFor('a snapshot', (e) => e.event === 'snapshot');
    expect((await box.piko(['create', 'gone-soon', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    await first.waitFor('the environment ready', environmentOf('gone-soon', 'ready'));
    const last = first.events.at(-1)!.id!;
    first.close();

    // Missed: a destroy by a local CLI.
    expect((await box.piko(['destroy', 'gone-soon', '--transport', 'stdout'], repo)).exitCode).toBe(0);
    const back = follow(server, { ...headers, 'last-event-id': last });
    const removed = await back.waitFor('the environment removed', (e) => e.event === 'environment-removed');
    expect(removed.data).toEqual({ project: 'app', name: 'gone-soon' });
    await back.waitFor('the destroy ending', operationOf('gone-soon', 'succeeded', 'destroy'));
    expect(back.events.some((e) => e.event === 'snapshot')).toBe(false);
    expect(Number(back.events[0]!.id)).toBe(Number(last) + 1);
    back.close();

    // An id this server never gave (one of an earlier server): everything again.
    for (const stale of ['12', 'x', String(Number(last) + 1_000_000)]) {
      const fresh = follow(server, { ...headers, 'last-event-id': stale });
      const snapshot = await fresh.waitFor('a snapshot', () => true);
      expect({ stale, event: snapshot.event }).toEqual({ stale, event: 'snapshot' });
      expect(snapshot.data.projects[0].environments).toEqual([]);
      fresh.close();
    }
  });

  it('keeps a quiet stream open with comments', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box, { PIKO_PING_INTERVAL_MS: '50' });
    const feed = follow(server, { authorization: `Bearer ${server.token}` });
    await feed.waitForText(/^: keep-alive$/m);
    feed.close();
  });

  it('starts a new snapshot when a project is registered', async () => {
    const box = sandbox();
    await initProject(box);
    const server = await startServer(box);
    const feed = follow(server, { authorization: `Bearer ${server.token}` });
    await feed.waitFor('a snapshot', (e) => e.event === 'snapshot');
    await initProject(box, {}, 'second');
    const again = await feed.waitFor('a second snapshot', (e) => e.event === 'snapshot' && e.data.projects.length === 2);
    expect(again.data.projects.map((p: { name: string }) => p.name)).toEqual(['app', 'second']);
    feed.close();
  });
});

describe('a client of the stream that does not read', () => {
  it('is dropped once too much waits for it, and not before', () => {
    let queued = 0;
    const res = { writableEnded: false, destroyed: false, get writableLength() { return queued; }, write: jest.fn(), destroy: jest.fn(), end: jest.fn() };
    const log = jest.fn<(line: string) => void>();
    const client = new FeedClient(res as unknown as ServerResponse, 1000, log);
    client.write(Buffer.from('a'));
    queued = 1000;
    client.write(Buffer.from('b'));
    expect(res.write).toHaveBeenCalledTimes(2);
    queued = 1001;
    client.write(Buffer.from('c'));
    expect(res.write).toHaveBeenCalledTimes(2);
    expect(res.destroy).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/fell behind \(1001 bytes not taken\): dropped/));
  });
});
