import { describe, expect, it } from '@jest/globals';
import { checkRequest, LOOPBACK_HOSTS } from '../../transports/guard.js';

const options = { token: 's3cret', hosts: LOOPBACK_HOSTS, port: 19876 };
const ok = { host: '127.0.0.1:19876', authorization: 'Bearer s3cret' };

describe('the request guard', () => {
  it('lets in a request with the token, a host it answers to, and no foreign origin', () => {
    expect(checkRequest(ok, options)).toEqual({ ok: true });
    expect(checkRequest({ ...ok, host: 'localhost:19876' }, options)).toEqual({ ok: true });
    expect(checkRequest({ ...ok, host: '[::1]:19876', origin: 'http://[::1]:19876' }, options)).toEqual({ ok: true });
  });

  it('takes the scheme in any case (RFC 7235), but not the token', () => {
    for (const authorization of ['bearer s3cret', 'BEARER s3cret', 'bEaReR s3cret']) {
      expect(checkRequest({ ...ok, authorization }, options)).toEqual({ ok: true });
    }
    expect(checkRequest({ ...ok, authorization: 'Bearer S3CRET' }, options)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a missing or wrong token with 401', () => {
    for (const authorization of [undefined, 'Bearer wrong', 's3cret', 'Bearer s3cret extra', 'Basic s3cret']) {
      expect(checkRequest({ ...ok, authorization }, options)).toMatchObject({ ok: false, status: 401 });
    }
  });

  it('refuses a host it does not answer to (DNS rebinding) and a foreign origin (cross-site) with 403', () => {
    expect(checkRequest({ ...ok, host: 'evil.example:19876' }, options)).toMatchObject({ ok: false, status: 403, reason: expect.stringContaining('evil.example') });
    expect(checkRequest({ ...ok, host: undefined }, options)).toMatchObject({ ok: false, status: 403 });
    for (const origin of ['http://evil.example', 'http://localhost:3000', 'https://127.0.0.1:19876', 'null', 'not a url']) {
      expect(checkRequest({ ...ok, origin }, options)).toMatchObject({ ok: false, status: 403 });
    }
  });
});
