import { describe, expect, it } from '@jest/globals';
import type { ServerMessage } from '../../../core/protocol/messages.js';
import { readEventStream, readOperation, type ByteReader } from '../../../cli/ui/event-stream.js';
import { sseEvent } from '../../../transports/sse.js';

/** A body that hands out `text`'s bytes in pieces of `size` (cutting events and characters anywhere). */
function reader(text: string, size: number): ByteReader & { cancelled: boolean } {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  const r = {
    cancelled: false,
    read: async () => {
      if (r.cancelled || at >= bytes.length) return { done: true as const, value: undefined };
      const value = bytes.slice(at, at + size);
      at += size;
      return { done: false as const, value };
    },
    cancel: async () => {
      r.cancelled = true;
    },
  };
  return r;
}

const messages: ServerMessage[] = [
  { type: 'accepted', operation: 'op_1', action: 'create', project: 'p', environment: 'feat', seq: 0 },
  { type: 'logs', source: 'script:setup', stream: 'stdout', data: 'héllo ✓ wörld\n😀 two\n', seq: 1, count: 2 },
  { type: 'complete', success: false, error: 'nope', seq: 3 },
];

describe('readEventStream', () => {
  it('reads events cut anywhere, characters of several bytes too, and comments', async () => {
    const text = `: keep-alive\n\n${messages.map(sseEvent).join('')}`;
    for (const size of [1, 2, 3, 7, 64, 100_000]) {
      const events: { id?: string | undefined; data: string }[] = [];
      let comments = 0;
      const how = await readEventStream(reader(text, size), (e) => void events.push({ id: e.id, data: e.data }), { onComment: () => comments++ });
      expect(how).toBe('ended');
      expect(comments).toBe(1);
      expect(events.map((e) => JSON.parse(e.data))).toEqual(messages);
      expect(events.map((e) => e.id)).toEqual(['0', '2', '3']);
    }
  });

  it('reads named events, as /api/events sends them', async () => {
    const seen: [string | undefined, string][] = [];
    await readEventStream(reader('id: 7\nevent: snapshot\ndata: {"projects":[]}\n\n', 5), (e) => void seen.push([e.event, e.data]));
    expect(seen).toEqual([['snapshot', '{"projects":[]}']]);
  });

  it('hands the thread back while a big chunk is read, and reads all of it', async () => {
    const many: ServerMessage[] = Array.from({ length: 20_000 }, (_, i) => ({ type: 'log', source: 'git', stream: 'stdout', data: `line ${i}\n`, seq: i }));
    let pauses = 0;
    let count = 0;
    await readEventStream(reader(many.map(sseEvent).join(''), 10_000_000), () => void count++, {
      budgetMs: 0,
      pause: async () => void pauses++,
    });
    expect(count).toBe(20_000);
    expect(pauses).toBeGreaterThan(10);
  });
});

describe('readOperation', () => {
  it('stops at complete and lets go of the stream', async () => {
    const body = reader(`${messages.map(sseEvent).join('')}data: {"type":"log"}\n\n`, 10);
    const got: ServerMessage[] = [];
    expect(await readOperation(body, (m) => void got.push(m))).toBe('complete');
    expect(got).toEqual(messages);
    expect(body.cancelled).toBe(true);
  });

  it('says so when the stream ends without complete (a connection lost), skipping events that are not messages', async () => {
    const got: ServerMessage[] = [];
    const how = await readOperation(reader(`data: not json\n\ndata: 42\n\n${sseEvent(messages[0]!)}`, 4), (m) => void got.push(m));
    expect(how).toBe('ended');
    expect(got).toEqual([messages[0]]);
  });
});
