// The page's requests to the server that served it. Same origin only: the session cookie goes
// with every request, with the page's key (./key.ts); the server honours the two together, and
// only from its own origin.
import type { ServerMessage } from '../../../core/protocol/messages.js';
import { readOperation } from '../event-stream.js';
import type { OperationRecord, Overview } from '../model.js';
import type { OperationRequestBody } from '../session.js';
import { signedFetch } from './key.js';

/** The server answered 401: the page's session is gone (expired, signed out, a new server). */
export class SignedOut extends Error {
  constructor() {
    super('signed out');
  }
}

/** The server's own words for a failed request: `{"error": …}` when it sent that, else the status. */
async function failure(res: Response): Promise<Error> {
  if (res.status === 401) return new SignedOut();
  let text = '';
  try {
    text = await res.text();
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return new Error(body.error);
  } catch {
    // Not JSON: the text, or the status.
  }
  return new Error(text.trim().slice(0, 300) || `${res.status} ${res.statusText}`);
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await signedFetch(path, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw await failure(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const q = encodeURIComponent;

/**
 * A task later: the browser paints and takes input in between. Through a message channel, not a
 * timer: a timer set from a timer's task, five deep, waits 4 ms at least (HTML's clamp), which a
 * stream read in 12 ms slices would spend a quarter of its time waiting out.
 */
const nextTask = (() => {
  const waiting: (() => void)[] = [];
  let channel: MessageChannel | undefined;
  return (): Promise<void> =>
    new Promise((resolve) => {
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => waiting.shift()?.();
      }
      waiting.push(resolve);
      channel.port2.postMessage(null);
    });
})();

export const api = {
  overview: () => request<Overview>('GET', '/api/overview'),
  branches: (project: string) => request<string[]>('GET', `/api/projects/${q(project)}/branches`),
  operations: (project: string, environment: string, limit = 20) =>
    request<OperationRecord[]>('GET', `/api/operations?project=${q(project)}&environment=${q(environment)}&limit=${limit}`),
  cancel: (operation: string) => request<unknown>('POST', `/api/operations/${q(operation)}/cancel`, { by: 'the dashboard' }),
  logout: () => request<void>('POST', '/api/ui/logout'),
  /** The stream of changes, from after `lastEventId` when given (what EventSource does, with the key it cannot send). */
  events: (lastEventId: string | undefined, signal: AbortSignal) =>
    signedFetch('/api/events', { signal, headers: { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) } }),
};

/** Where a stream of an operation's messages comes from: a request to start one, or one that runs or ran. */
export type StreamTarget = { start: OperationRequestBody } | { operation: string; since: number; follow: boolean };

/**
 * Reads an operation's messages (batched) to `onMessage` until its `complete` ('complete') or
 * the end of the stream ('ended': a replay without follow, or a connection lost).
 */
export async function streamOperation(target: StreamTarget, onMessage: (message: ServerMessage) => void, signal: AbortSignal): Promise<'complete' | 'ended'> {
  const init: RequestInit = { headers: { accept: 'text/event-stream' }, signal };
  let url: string;
  if ('start' in target) {
    url = `/api/environments/${q(target.start.action)}/events?batch=1`;
    init.method = 'POST';
    init.headers = { accept: 'text/event-stream', 'content-type': 'application/json' };
    init.body = JSON.stringify(target.start);
  } else {
    url = `/api/operations/${q(target.operation)}/events?batch=1&since=${target.since}${target.follow ? '' : '&follow=false'}`;
  }
  const res = await signedFetch(url, init);
  if (!res.ok || !res.body) throw await failure(res);
  return readOperation(res.body.getReader(), onMessage, { pause: nextTask });
}
