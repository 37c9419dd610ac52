import { describe, expect, it } from '@jest/globals';
import { requestUrl, route, routeTransport, sinceOf } from '../../../cli/server/routes.js';

describe('routes of piko server', () => {
  it('knows every endpoint, and what carries it', () => {
    expect(route('/api/environments/create/stream')).toEqual({ kind: 'start', action: 'create', transport: 'websocket' });
    expect(route('/api/environments/restart/events')).toEqual({ kind: 'start', action: 'restart', transport: 'sse' });
    expect(route('/api/operations/op_0123456789ab/stream')).toEqual({ kind: 'attach', operation: 'op_0123456789ab', transport: 'websocket' });
    expect(route('/api/operations/op_0123456789ab/events')).toEqual({ kind: 'attach', operation: 'op_0123456789ab', transport: 'sse' });
    expect(route('/api/operations/op_0123456789ab/cancel')).toEqual({ kind: 'cancel', operation: 'op_0123456789ab' });
    expect(route('/api/operations/op_0123456789ab')).toEqual({ kind: 'operation', operation: 'op_0123456789ab' });
    expect(route('/api/health')).toEqual({ kind: 'health' });
    expect(route('/api/projects')).toEqual({ kind: 'projects' });
    expect(route('/api/environments')).toEqual({ kind: 'environments' });
    for (const path of ['/', '/api/environments/rm/stream', '/api/environments/create/stream/', '/api/operations//cancel', '/API/health']) {
      expect(route(path)).toEqual({ kind: 'unknown' });
    }
    expect(routeTransport(route('/api/environments/up/events'))).toBe('sse');
    expect(routeTransport(route('/api/health'))).toBe('http');
  });

  it('takes the later of ?since and Last-Event-ID, and everything when neither is a whole number', () => {
    const url = (query: string) => new URL(`http://piko/api/operations/op_1/events${query}`);
    expect(sinceOf(url(''), undefined)).toBe(-1);
    expect(sinceOf(url('?since=4'), undefined)).toBe(4);
    expect(sinceOf(url('?since=4'), '9')).toBe(9);
    expect(sinceOf(url('?since=12'), ['9', '30'])).toBe(12);
    expect(sinceOf(url('?since=abc'), '2.5')).toBe(-1);
    expect(sinceOf(url('?since='), ' ')).toBe(-1);
    expect(sinceOf(url('?since=-7'), undefined)).toBe(-1);
  });

  it('reads any request line a client may send', () => {
    expect(requestUrl('/api/health?x=1')?.pathname).toBe('/api/health');
    expect(requestUrl('api/health')?.pathname).toBe('/api/health');
    expect(requestUrl(undefined)?.pathname).toBe('/');
    expect(requestUrl('//[/')?.pathname).toBe('//[/');
  });
});
