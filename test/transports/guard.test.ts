import { describe, expect, it } from '@jest/globals';
import { checkHost, checkRequest, cookieValues, LOOPBACK_HOSTS } from '../../transports/guard.js';

const options = { token: 's3cret', hosts: LOOPBACK_HOSTS, port: 19876 };
const ok = { host: '127.0.0.1:19876', authorization: 'Bearer s3cret' };

describe('the request guard', () => {
  it('lets in a request with the token, a host it answers to, and no foreign origin', () => {
    expect(checkRequest(ok, options)).toEqual({ ok: true, by: 'token' });
    expect(checkRequest({ ...ok, host: 'localhost:19876' }, options)).toEqual({ ok: true, by: 'token' });
    expect(checkRequest({ ...ok, host: '[::1]:19876', origin: 'http://[::1]:19876' }, options)).toEqual({ ok: true, by: 'token' });
  });

  it('takes the scheme in any case (RFC 7235), but not the token', () => {
    for (const authorization of ['bearer s3cret', 'BEARER s3cret', 'bEaReR s3cret']) {
      expect(checkRequest({ ...ok, authorization }, options)).toEqual({ ok: true, by: 'token' });
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

  it('answers no credentials at all with the sign-in message', () => {
    expect(checkRequest({ host: ok.host }, options)).toEqual({ ok: false, status: 401, reason: 'sign in: run piko ui' });
    // Without sessions (the CLI's guard before any sign-in), a cookie is no credential.
    expect(checkRequest({ host: ok.host, cookie: `piko_ui_19876=${live}` }, options)).toMatchObject({ ok: false, status: 401 });
  });
});

const live = 'a'.repeat(64);
const liveKey = 'd'.repeat(64);
const sessions = { ...options, session: (id: string, key: string) => id === live && key === liveKey };
const own = 'http://127.0.0.1:19876';
const browser = { host: '127.0.0.1:19876', cookie: `piko_ui_19876=${live}`, 'x-piko-key': liveKey };

describe('the request guard, for the dashboard session cookie', () => {
  it('takes a GET without an Origin unless the browser says another site sent it', () => {
    expect(checkRequest(browser, sessions, { method: 'GET' })).toEqual({ ok: true, by: 'session', session: live });
    for (const site of ['same-origin', 'none']) expect(checkRequest({ ...browser, 'sec-fetch-site': site }, sessions, { method: 'GET' })).toMatchObject({ ok: true });
    for (const site of ['same-site', 'cross-site']) {
      expect(checkRequest({ ...browser, 'sec-fetch-site': site }, sessions, { method: 'GET' })).toMatchObject({ ok: false, status: 403, reason: expect.stringContaining(site) });
    }
  });

  it('takes a POST or an upgrade only with the exact Origin the request names', () => {
    expect(checkRequest({ ...browser, origin: own }, sessions, { method: 'POST' })).toMatchObject({ ok: true, by: 'session' });
    expect(checkRequest({ ...browser, origin: own }, sessions, { method: 'GET', upgrade: true })).toMatchObject({ ok: true, by: 'session' });
    expect(checkRequest(browser, sessions, { method: 'POST' })).toMatchObject({ ok: false, status: 403, reason: expect.stringContaining('no Origin') });
    expect(checkRequest(browser, sessions, { method: 'GET', upgrade: true })).toMatchObject({ ok: false, status: 403 });
    // Another name of this server is another origin all the same.
    expect(checkRequest({ ...browser, origin: 'http://localhost:19876' }, sessions, { method: 'POST' })).toMatchObject({ ok: false, status: 403 });
    expect(checkRequest({ ...browser, host: 'localhost:19876', origin: 'http://localhost:19876' }, sessions, { method: 'POST' })).toMatchObject({ ok: true });
    for (const origin of ['http://evil.example', 'http://127.0.0.1:3000', 'null']) {
      expect(checkRequest({ ...browser, origin }, sessions, { method: 'POST' })).toMatchObject({ ok: false, status: 403 });
      expect(checkRequest({ ...browser, origin }, sessions, { method: 'GET' })).toMatchObject({ ok: false, status: 403 });
    }
  });

  it('takes the cookie only with its page\'s key (a browser sends the cookie to every port of the host)', () => {
    const { 'x-piko-key': _key, ...cookieOnly } = browser;
    expect(checkRequest({ ...cookieOnly, origin: own }, sessions, { method: 'POST' })).toMatchObject({ ok: false, status: 401, reason: expect.stringContaining('x-piko-key') });
    expect(checkRequest({ ...browser, 'x-piko-key': 'e'.repeat(64) }, sessions)).toMatchObject({ ok: false, status: 401 });
    expect(checkRequest({ host: browser.host, 'x-piko-key': liveKey }, sessions)).toMatchObject({ ok: false, status: 401 });
  });

  it('refuses a session it does not know, and a foreign Host whatever the cookie', () => {
    expect(checkRequest({ ...browser, cookie: `piko_ui_19876=${'b'.repeat(64)}` }, sessions)).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/^sign in: run piko ui/) });
    expect(checkRequest({ ...browser, host: 'evil.example:19876' }, sessions)).toMatchObject({ ok: false, status: 403 });
    expect(checkHost({ host: 'evil.example' }, options)).toMatchObject({ ok: false, status: 403 });
    expect(checkHost({ host: 'localhost:1' }, options)).toBeUndefined();
  });

  it('lets the token decide when both are sent', () => {
    expect(checkRequest({ ...browser, authorization: 'Bearer wrong' }, sessions)).toMatchObject({ ok: false, status: 401 });
    expect(checkRequest({ ...browser, authorization: 'Bearer s3cret' }, sessions, { method: 'POST' })).toEqual({ ok: true, by: 'token' });
  });

  it('reads every value of the cookie', () => {
    expect(cookieValues('a=1; piko_ui=x; b=2;piko_ui=y', 'piko_ui')).toEqual(['x', 'y']);
    expect(cookieValues(undefined, 'piko_ui')).toEqual([]);
    expect(cookieValues('piko_uix=1', 'piko_ui')).toEqual([]);
    expect(checkRequest({ ...browser, cookie: `piko_ui_19876=${'c'.repeat(64)}; piko_ui_19876=${live}` }, sessions)).toMatchObject({ ok: true });
    // Another port's server's cookie is its own: this server does not read it.
    expect(checkRequest({ ...browser, cookie: `piko_ui_3000=${live}` }, sessions)).toMatchObject({ ok: false, status: 401 });
  });
});
