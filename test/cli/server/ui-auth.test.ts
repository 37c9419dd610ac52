// One-time codes and sessions, with a clock the test moves.
import { describe, expect, it } from '@jest/globals';
import { clearedCookie, DashboardAuth, sessionCookie } from '../../../cli/server/ui-auth.js';

function auth(codeTtlMs = 60_000, sessionTtlMs = 12 * 3_600_000) {
  const clock = { now: 1_000_000 };
  return { clock, auth: new DashboardAuth({ codeTtlMs, sessionTtlMs, now: () => clock.now }) };
}

describe('dashboard sign-in', () => {
  it('takes a code once, within its lifetime', () => {
    const { auth: a, clock } = auth();
    const { code, expiresAt } = a.newCode();
    expect(expiresAt.getTime()).toBe(clock.now + 60_000);
    const signed = a.redeem(code)!;
    expect(signed).toEqual({ session: expect.stringMatching(/^[0-9a-f]{64}$/), key: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(signed.key).not.toBe(signed.session);
    expect(a.redeem(code)).toBeUndefined();
    expect(a.valid(signed.session, signed.key)).toBe(true);

    const late = a.newCode();
    clock.now += 60_000;
    expect(a.redeem(late.code)).toBeUndefined();
    expect(a.redeem('not a code')).toBeUndefined();
  });

  it('takes a session only with its own key', () => {
    const { auth: a } = auth();
    const first = a.redeem(a.newCode().code)!;
    const second = a.redeem(a.newCode().code)!;
    expect(a.valid(first.session, second.key)).toBe(false);
    expect(a.valid(first.session, '0'.repeat(64))).toBe(false);
    expect(a.valid(first.session, '')).toBe(false);
    expect(a.valid(second.session, second.key)).toBe(true);
  });

  it('ends a session after its lifetime, or when signed out', () => {
    const { auth: a, clock } = auth(60_000, 1000);
    const first = a.redeem(a.newCode().code)!;
    const second = a.redeem(a.newCode().code)!;
    a.drop(second.session);
    expect(a.valid(second.session, second.key)).toBe(false);
    clock.now += 999;
    expect(a.valid(first.session, first.key)).toBe(true);
    clock.now += 1;
    expect(a.valid(first.session, first.key)).toBe(false);
    expect(a.valid('x', first.key)).toBe(false);
  });

  it('keeps a bounded number of codes', () => {
    const { auth: a } = auth();
    const codes = Array.from({ length: 300 }, () => a.newCode().code);
    expect(a.redeem(codes[0]!)).toBeUndefined();
    expect(a.redeem(codes.at(-1)!)).toBeDefined();
  });

  it('makes the cookie HttpOnly, SameSite=Strict, for the whole site, for the session only', () => {
    // Named for the server's port: a browser keeps a host's cookies whatever the port.
    expect(sessionCookie(19876, 'abc')).toBe('piko_ui_19876=abc; HttpOnly; SameSite=Strict; Path=/');
    expect(clearedCookie(19876)).toBe('piko_ui_19876=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
  });
});
