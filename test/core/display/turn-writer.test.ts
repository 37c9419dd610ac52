import { describe, expect, it } from '@jest/globals';
import { TurnBuffer } from '../../../core/display/turn-writer.js';

class Collected extends TurnBuffer {
  emitted: string[] = [];
  protected emit(text: string | Buffer): void {
    if (text.length > 0) this.emitted.push(String(text));
  }
}

describe('a turn of writes', () => {
  it('goes out as one write at the end of the turn', async () => {
    const out = new Collected();
    for (let i = 0; i < 1000; i++) out.write(`line ${i}\n`);
    expect(out.emitted).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.emitted).toHaveLength(1);
    expect(out.emitted[0]!.split('\n')).toHaveLength(1001);
  });

  it('that brings megabytes is written as it comes, in pieces of about 64 KiB, in order', async () => {
    const out = new Collected();
    const parts = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(5, '0')}${'x'.repeat(10_000)}\n`);
    for (const part of parts) out.write(part);
    // Written during the turn already, none of it much past the bound.
    expect(out.emitted.length).toBeGreaterThan(40);
    for (const piece of out.emitted) expect(piece.length).toBeLessThan(64 * 1024 + 10_010);
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.emitted.join('')).toBe(parts.join(''));
  });
});
