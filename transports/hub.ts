// Which clients follow which operation. The network transports hand the hub a Channel per
// client; the hub taps the engine's `output` hook and fans every message out to the channels
// of its operation, closing them after `complete`. Re-attaching replays the operation's log at
// the pace the client takes it, while live messages wait in a buffer; the two are joined by seq,
// so nothing is lost or sent twice between them.
import { existsSync } from 'node:fs';
import type { Engine, PikoPlugin } from '../core/engine/engine.js';
import type { Operation } from '../core/engine/operation.js';
import { readLogChunk } from '../core/state/operation-log.js';
import { lineCount, takeUnseen } from '../core/protocol/batch.js';
import type { OutputMessage } from '../core/protocol/messages.js';
import type { Channel } from './channel.js';

const PLUGIN_NAME = 'OperationHub';

/**
 * Live log lines held for one client while it catches up with the log; past this they are
 * dropped, and counted unless the replay reads them from the log after all.
 */
export const CATCH_UP_BUFFER = 20_000;
/**
 * How much of the log a replay reads at a time. It then waits until the client has taken what
 * was queued (down to REPLAY_QUEUE_BYTES), so a client that does not read costs the server
 * about one step beyond that, however long the log. Longer than a line of the log (mostly a
 * batch of up to 48 KiB of output, as JSON): a step shorter than the line at its offset reads
 * the log again, four times as far, and a replay's buffers are garbage outside V8's heap that it
 * collects late (50 stalled re-attachers of a 60 MB log: 10–50 MB more RSS with 32 KiB steps).
 */
export const REPLAY_STEP_BYTES = 64 * 1024;
/**
 * What a replay leaves queued for its client before it reads the next step. Lower than a live
 * client's bound: a replay has no reason to run ahead, and a queue of one small frame per line
 * costs the server several times its bytes.
 */
export const REPLAY_QUEUE_BYTES = 128 * 1024;

export class OperationHub implements PikoPlugin {
  readonly name = PLUGIN_NAME;
  private readonly channels = new Map<string, Set<Channel>>();
  /**
   * Channels still replaying the log, and the live messages that came meanwhile: those held
   * (and how many lines), and the seq ranges of the lines dropped.
   */
  private readonly catchingUp = new Map<Channel, { messages: OutputMessage[]; lines: number; dropped: [number, number][] }>();

  apply(engine: Engine): void {
    engine.hooks.output.tap(PLUGIN_NAME, (message, operation) => {
      const channels = this.channels.get(operation.id);
      if (!channels) return;
      const lines = lineCount(message);
      for (const channel of channels) {
        const held = this.catchingUp.get(channel);
        if (!held) channel.send(message);
        else if (lines > 0 && held.lines >= CATCH_UP_BUFFER) held.dropped.push([message.seq, message.seq + lines - 1]);
        else {
          held.messages.push(message);
          held.lines += lines;
        }
      }
      if (message.type === 'complete') {
        this.channels.delete(operation.id);
        for (const channel of channels) if (!this.catchingUp.has(channel)) channel.close();
      }
    });
  }

  /** Sends `channel` every later message of the running `operation`. */
  attach(operation: string, channel: Channel): void {
    const channels = this.channels.get(operation) ?? new Set();
    channels.add(channel);
    this.channels.set(operation, channels);
    channel.onClose(() => {
      channels.delete(channel);
      this.catchingUp.delete(channel);
    });
  }

  /**
   * Sends `channel` the messages of the log at `logPath` numbered after `since`, as fast as it
   * takes them; then, when `running` is given and `follow` is set, every later message live.
   * Otherwise the channel is closed at the end of the log.
   */
  async replay(logPath: string, since: number, channel: Channel, running: Operation | undefined, follow: boolean): Promise<void> {
    let last = since;
    let ended = false;
    const send = (replayed: boolean) => (message: OutputMessage): void => {
      if (message.type === 'complete') ended = true;
      if (replayed) channel.sendReplayed(message);
      else channel.send(message);
    };
    const [sendReplayed, sendLive] = [send(true), send(false)];
    const deliver = (message: OutputMessage, replayed: boolean): void => {
      last = takeUnseen(message, last, replayed ? sendReplayed : sendLive);
    };
    // From here on, new messages wait in the buffer; everything before is in the file.
    running?.log.flush();
    const live = running && follow;
    if (live) {
      this.catchingUp.set(channel, { messages: [], lines: 0, dropped: [] });
      this.attach(running.id, channel);
    }
    if (existsSync(logPath)) {
      const read = (offset: number) => readLogChunk(logPath, offset, REPLAY_STEP_BYTES);
      for (let chunk = read(0); chunk.messages.length > 0; chunk = read(chunk.offset)) {
        for (const message of chunk.messages) deliver(message, true);
        await channel.caughtUp(REPLAY_QUEUE_BYTES);
        if (!channel.open) return;
      }
    }
    const held = this.catchingUp.get(channel);
    this.catchingUp.delete(channel);
    if (held) {
      // The log has every line: only those after what the replay read from it are missing.
      channel.countDropped(held.dropped.reduce((sum, [first, end]) => sum + Math.max(0, end - Math.max(first, last + 1) + 1), 0));
      for (const message of held.messages) deliver(message, false);
    }
    if (ended || !live) channel.close();
  }
}
