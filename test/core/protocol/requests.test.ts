import { describe, expect, it } from '@jest/globals';
import { PikoError } from '../../../core/errors.js';
import type { OperationKind } from '../../../core/protocol/messages.js';
import { parseOperationRequest } from '../../../core/protocol/requests.js';

/** The PikoError parsing `text` at the `action` endpoint throws (the test fails when it throws none). */
function refusal(text: string, action: OperationKind = 'create'): PikoError {
  try {
    parseOperationRequest(text, action);
  } catch (err) {
    expect(err).toBeInstanceOf(PikoError);
    expect((err as PikoError).code).toBe('PIKO_ERR_USAGE');
    return err as PikoError;
  }
  throw new Error(`${text} was accepted at the ${action} endpoint`);
}

describe('parseOperationRequest: what is not a request', () => {
  it('refuses text that is not JSON, saying so', () => {
    expect(refusal('{').message).toMatch(/^request is not valid JSON \(.+\)$/);
    expect(refusal('').message).toContain('not valid JSON');
    expect(refusal("{'environment': 'a'}").message).toContain('not valid JSON');
  });

  it('refuses JSON that is not an object: an array, null, a string, a number', () => {
    for (const text of ['[]', '[{"environment":"a"}]', 'null', '"feature-x"', '42', 'true']) {
      const err = refusal(text);
      expect(err.message).toContain('request must be a JSON object');
      // It shows what one looks like.
      expect(err.message).toContain('"environment"');
    }
  });
});

describe('parseOperationRequest: the action', () => {
  it('fills in the action from the endpoint when the request leaves it out', () => {
    expect(parseOperationRequest('{"environment":"feat"}', 'create')).toEqual({ action: 'create', environment: 'feat' });
    for (const action of ['destroy', 'up', 'down', 'restart'] as const) {
      expect(parseOperationRequest('{"environment":"feat"}', action)).toEqual({ action, environment: 'feat' });
    }
  });

  it('takes an action that matches the endpoint', () => {
    expect(parseOperationRequest('{"action":"down","environment":"feat"}', 'down')).toEqual({ action: 'down', environment: 'feat' });
  });

  it('refuses an unknown action, naming it and the known ones', () => {
    const err = refusal('{"action":"nuke","environment":"feat"}');
    expect(err.message).toContain('unknown action "nuke"');
    expect(err.message).toContain('create, destroy, up, down, restart');
    expect(refusal('{"action":null,"environment":"feat"}').message).toContain('unknown action null');
    expect(refusal('{"action":7,"environment":"feat"}').message).toContain('unknown action 7');
  });

  it('refuses an action that does not match the endpoint, naming both', () => {
    const err = refusal('{"action":"destroy","environment":"feat"}', 'create');
    expect(err.message).toContain('"destroy"');
    expect(err.message).toContain('the create endpoint');
    expect(refusal('{"action":"up","environment":"feat"}', 'restart').message).toContain('does not match the restart endpoint');
  });
});

describe('parseOperationRequest: the fields', () => {
  it('refuses a request without an environment', () => {
    expect(refusal('{}').message).toBe('bad request: environment: required string');
    expect(refusal('{"action":"destroy","project":"app"}', 'destroy').message).toContain('environment: required string');
  });

  it('refuses fields of the wrong type, naming the field, what it wanted and what it got', () => {
    const attach = refusal('{"environment":"feat","attach":"yes"}').message;
    expect(attach).toContain('attach');
    expect(attach).toContain('expected boolean');
    expect(attach).toContain('string "yes"');

    const environment = refusal('{"environment":5}', 'up').message;
    expect(environment).toContain('environment: expected string, got number 5');

    const force = refusal('{"environment":"feat","force":1}', 'destroy').message;
    expect(force).toContain('force: expected boolean, got number 1');

    expect(refusal('{"environment":"feat","keepVolumes":"no"}', 'destroy').message).toContain('keepVolumes');
    expect(refusal('{"environment":"feat","project":["app"]}').message).toMatch(/project: .*got a list/);
    expect(refusal('{"environment":"feat","cwd":{}}').message).toMatch(/cwd: .*got a mapping/);
  });

  it('refuses an empty string where a name is expected, naming the field', () => {
    for (const [field, action] of [
      ['project', 'create'],
      ['cwd', 'destroy'],
      ['transport', 'up'],
      ['branch', 'create'],
      ['from', 'create'],
    ] as const) {
      const err = refusal(`{"environment":"feat","${field}":""}`, action);
      expect(err.message).toContain(`bad request: ${field}: expected a non-empty string (leave the key out instead), got string ""`);
    }
  });

  it('takes approve as true or as a digest string, and nothing else', () => {
    expect(parseOperationRequest('{"environment":"feat","approve":true}', 'create')).toMatchObject({ approve: true });
    expect(parseOperationRequest('{"environment":"feat","approve":"0123abcd"}', 'restart')).toMatchObject({ action: 'restart', approve: '0123abcd' });
    expect(refusal('{"environment":"feat","approve":false}').message).toContain('approve: ');
    expect(refusal('{"environment":"feat","approve":""}').message).toContain('approve: ');
    expect(refusal('{"environment":"feat","approve":1}').message).toContain('approve: ');
  });

  it('keeps every field of a full create request', () => {
    const request = {
      action: 'create',
      project: 'app',
      environment: 'feat',
      cwd: '/src/app',
      transport: 'sse',
      approve: true,
      attach: false,
      branch: 'main',
      from: 'base',
    };
    expect(parseOperationRequest(JSON.stringify(request), 'create')).toEqual(request);
  });

  it('keeps every field of a full destroy request', () => {
    const request = { action: 'destroy', environment: 'feat', keepVolumes: true, deleteBranch: true, discardChanges: false, force: true };
    expect(parseOperationRequest(JSON.stringify(request), 'destroy')).toEqual(request);
  });
});
