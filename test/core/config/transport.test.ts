import { describe, expect, it } from '@jest/globals';
import { checkTransports, chooseTransport, configuredTransport, globMatches } from '../../../core/config/transport.js';

describe('choosing a transport', () => {
  it('flag > PIKO_TRANSPORT > environments glob > transport > websocket', () => {
    const config = { transport: 'sse' as const, environments: { 'ci-*': { transport: 'stdout' as const } } };
    expect(chooseTransport('websocket', config, 'ci-1', { PIKO_TRANSPORT: 'sse' })).toBe('websocket');
    expect(chooseTransport(undefined, config, 'ci-1', { PIKO_TRANSPORT: 'websocket' })).toBe('websocket');
    expect(chooseTransport(undefined, config, 'ci-1', {})).toBe('stdout');
    expect(chooseTransport(undefined, config, 'feature', {})).toBe('sse');
    expect(chooseTransport(undefined, {}, 'feature', {})).toBe('websocket');
    expect(chooseTransport(undefined, {}, 'x', { PIKO_TRANSPORT: 'pigeon' })).toBe('pigeon');
    expect([globMatches('ci-*', 'ci-12'), globMatches('ci-*', 'xci-1'), globMatches('f?x', 'fix'), globMatches('a.b', 'axb')]).toEqual([true, false, true, false]);
  });

  it('says what chose it: the first glob that matches decides, even one that sets no transport', () => {
    const config = { transport: 'sse', environments: { 'ci-*': {}, 'c?-1': { transport: 'stdout' }, 'pr-*': { transport: 'stdout' } } };
    expect(configuredTransport(config, 'ci-1', {})).toEqual({ transport: 'sse', from: 'transport' });
    expect(configuredTransport(config, 'pr-2', {})).toEqual({ transport: 'stdout', from: 'environments', glob: 'pr-*' });
    expect(configuredTransport(config, 'pr-2', { PIKO_TRANSPORT: 'websocket' })).toEqual({ transport: 'websocket', from: 'PIKO_TRANSPORT' });
    // No environment: no glob applies.
    expect(configuredTransport(config, undefined, {})).toEqual({ transport: 'sse', from: 'transport' });
    expect(configuredTransport({}, 'x', {})).toEqual({ transport: 'websocket', from: 'default' });
    for (const name of ['ci-1', 'pr-2', 'other']) expect(chooseTransport(undefined, config, name, {})).toBe(configuredTransport(config, name, {}).transport);
  });

  it('names where an unknown transport came from, whichever one is used', () => {
    const config = { transport: 'webscoket', environments: { 'ci-*': { transport: 'sse' } } };
    const known = ['websocket', 'sse', 'stdout'];
    expect(() => checkTransports(known, 'sse', config, '.piko.yml', {})).toThrow('.piko.yml: transport: no transport named "webscoket" (did you mean "websocket"?)');
    expect(() => checkTransports(known, undefined, {}, '.piko.yml', { PIKO_TRANSPORT: 'pigeon' })).toThrow('PIKO_TRANSPORT: no transport named "pigeon"');
    expect(() => checkTransports(known, 'sse', { environments: { 'ci-*': { transport: 'stdout' } } }, '.piko.yml', {})).not.toThrow();
  });
});
