import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ERRORS, PikoError, toPikoError } from '../../core/errors.js';
import { ROOT } from '../helpers/fixtures.js';

describe('error catalogue', () => {
  it('matches the README table, code for code and word for word', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(PIKO_ERR_[A-Z_]+)` \| (.*) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(ERRORS));
  });

  it('gives every error its hint and keeps stage and exit code', () => {
    const err = new PikoError('PIKO_ERR_STAGE_FAILED', 'setup failed', { stage: 'script:setup', exitCode: 2 });
    expect(err).toMatchObject({ code: 'PIKO_ERR_STAGE_FAILED', stage: 'script:setup', exitCode: 2, hint: ERRORS.PIKO_ERR_STAGE_FAILED });
    expect(toPikoError(new Error('x'))).toMatchObject({ code: 'PIKO_ERR_INTERNAL', message: 'x' });
    expect(toPikoError(err)).toBe(err);
  });
});
