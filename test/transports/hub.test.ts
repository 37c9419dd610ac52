import { afterEach, describe, expect, it } from '@jest/globals';
import type { OperationMessage, ServerMessage } from '../../core/protocol/messages.js';
import { Channel } from '../../transports/channel.js';
import { OperationHub } from '../../transports/hub.js';
import { engineHarness, stagesPlugin } from '../helpers/engine-fixtures.js';
import { cleanup } from '../helpers/fixtures.js';

afterEach(cleanup);

/** A client that takes everything at once; `caughtUp` can be held to let live messages pile up meanwhile. */
class MemoryChannel extends Channel {
  sent: ServerMessage[] = [];
  closed = false;
  onFirstCatchUp: (() => Promise<void>) | undefined;
  buffered(): number {
    return 0;
  }
  protected write(message: ServerMessage): void {
    this.sent.push(message);
  }
  get open(): boolean {
    return !this.closed;
  }
  protected end(): void {
    this.closed = true;
  }
  onClose(): void {}
  override async caughtUp(): Promise<void> {
    await super.caughtUp();
    const hold = this.onFirstCatchUp;
    this.onFirstCatchUp = undefined;
    await hold?.();
  }
}

const seqs = (messages: ServerMessage[]) => messages.map((m) => ('seq' in m ? m.seq : -2));

describe('re-attaching to a running operation', () => {
  it('joins the replayed log and the live messages by seq: every message once, in order, then closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let halfway!: () => void;
    const logged = new Promise<void>((resolve) => (halfway = resolve));
    const hub = new OperationHub();
    const h = engineHarness(
      hub,
      stagesPlugin('p', {
        name: 'talk',
        order: 1,
        async run(ctx) {
          for (let i = 0; i < 50; i++) ctx.info(`before ${i}`);
          halfway();
          await gate;
          for (let i = 0; i < 50; i++) ctx.info(`after ${i}`);
        },
      }),
    );
    const operation = h.operation();
    const done = h.engine.run(operation);
    await logged;
    const channel = new MemoryChannel(operation.id);
    // The replay pauses after its first chunk; meanwhile the operation runs to its end.
    channel.onFirstCatchUp = async () => {
      release();
      await done;
    };
    await hub.replay(operation.log.path, -1, channel, operation, true);
    const all = h.messages as OperationMessage[];
    expect(seqs(channel.sent)).toEqual(all.map((m) => m.seq));
    expect(channel.sent.at(-1)).toMatchObject({ type: 'complete', success: true });
    expect(channel.closed).toBe(true);
  });

  it('replays from after `since` only, and stops at the end of the log without `follow`', async () => {
    const hub = new OperationHub();
    const h = engineHarness(hub, stagesPlugin('p', { name: 'talk', order: 1, run: async (ctx) => ctx.info('hello') }));
    const operation = h.operation();
    await h.engine.run(operation);
    const channel = new MemoryChannel(operation.id);
    await hub.replay(operation.log.path, 2, channel, undefined, false);
    expect(seqs(channel.sent)).toEqual(h.messages.filter((m) => m.seq > 2).map((m) => m.seq));
    expect(channel.closed).toBe(true);
  });
});
