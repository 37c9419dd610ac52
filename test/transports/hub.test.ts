import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { OperationMessage, ServerMessage } from '../../core/protocol/messages.js';
import { Channel } from '../../transports/channel.js';
import { CATCH_UP_BUFFER, OperationHub, REPLAY_QUEUE_BYTES, REPLAY_STEP_BYTES } from '../../transports/hub.js';
import { engineHarness, stagesPlugin } from '../helpers/engine-fixtures.js';
import { cleanup, tempDir } from '../helpers/fixtures.js';

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

/** A promise and what settles it. */
function opening(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open: () => open() };
}

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

  it('says nothing was missed when the live lines it could not hold were in the log it replayed', async () => {
    const [started, more, said, end] = [opening(), opening(), opening(), opening()];
    const hub = new OperationHub();
    const h = engineHarness(
      hub,
      stagesPlugin('p', {
        name: 'talk',
        order: 1,
        async run(ctx) {
          ctx.info('first');
          started.open();
          await more.opened;
          // More than a catching-up client is held, all while it waits.
          for (let i = 0; i < CATCH_UP_BUFFER + 500; i++) ctx.info(`line ${i}`);
          said.open();
          await end.opened;
        },
      }),
    );
    const operation = h.operation();
    const done = h.engine.run(operation);
    await started.opened;
    const channel = new MemoryChannel(operation.id);
    channel.onFirstCatchUp = async () => {
      more.open();
      await said.opened;
    };
    // The replay reads every line from the log; the end of the operation then comes live.
    await hub.replay(operation.log.path, -1, channel, operation, true);
    end.open();
    await done;
    expect(channel.sent.filter((m) => m.type === 'dropped')).toEqual([]);
    expect(seqs(channel.sent)).toEqual((h.messages as OperationMessage[]).map((m) => m.seq));
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

describe('a client that re-attaches and does not read', () => {
  /** A socket that takes what it is sent and hands nothing on until the client starts reading. */
  class StalledChannel extends Channel {
    queued = 0;
    reading = false;
    sent: ServerMessage[] = [];
    private waiting: ((queued: number) => void) | undefined;
    /** What was queued the first time the replay had to wait for the client. */
    stalled = new Promise<number>((resolve) => (this.waiting = resolve));
    buffered(): number {
      if (this.queued > BOUND) this.waiting?.(this.queued);
      return this.queued;
    }
    protected write(message: ServerMessage): void {
      this.sent.push(message);
      if (!this.reading) this.queued += JSON.stringify(message).length;
    }
    get open(): boolean {
      return true;
    }
    protected end(): void {}
    onClose(): void {}
    read(): void {
      this.reading = true;
      this.queued = 0;
    }
  }
  const BOUND = REPLAY_QUEUE_BYTES;

  it('costs the server at most a step of the log beyond the bound, however long the log', async () => {
    // A finished operation that printed 20 000 lines of 100 bytes (2 MB of log).
    const log = join(tempDir(), 'op_0123456789ab.ndjson');
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ type: 'log', source: 'script:setup', stream: 'stdout', data: `${String(i).padStart(99, '.')}\n`, seq: i }));
    writeFileSync(log, `${lines.join('\n')}\n${JSON.stringify({ type: 'complete', success: true, seq: 20_000 })}\n`);
    const channel = new StalledChannel('op_0123456789ab');
    const replay = new OperationHub().replay(log, -1, channel, undefined, false);
    // The first time the replay has to wait, it has queued no more than one step past the bound.
    const stalled = await channel.stalled;
    const sentWhileStalled = channel.sent.length;
    channel.read();
    await replay;
    expect(stalled).toBeLessThanOrEqual(BOUND + 2 * REPLAY_STEP_BYTES);
    expect(sentWhileStalled).toBeLessThan(20_000);
    expect(channel.sent.map((m) => ('seq' in m ? m.seq : -1))).toEqual(Array.from({ length: 20_001 }, (_, i) => i));
  });
});
