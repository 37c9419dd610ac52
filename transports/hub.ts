// Which clients follow which operation. The network transports hand the hub a Channel per
// client; the hub taps the engine's `message` hook and fans every message out to the channels
// of its operation, closing them after `complete`. Re-attaching replays the operation's log
// and joins the live stream in one synchronous step, so nothing is lost or sent twice between.
import { existsSync } from 'node:fs';
import type { Engine, PikoPlugin } from '../core/engine.js';
import type { Operation } from '../core/operation.js';
import { readOperationLog } from '../core/operation-log.js';
import type { Channel } from './channel.js';

const PLUGIN_NAME = 'OperationHub';

export class OperationHub implements PikoPlugin {
  readonly name = PLUGIN_NAME;
  private readonly channels = new Map<string, Set<Channel>>();

  apply(engine: Engine): void {
    engine.hooks.message.tap(PLUGIN_NAME, (message, operation) => {
      const channels = this.channels.get(operation.id);
      if (!channels) return;
      for (const channel of channels) channel.send(message);
      if (message.type === 'complete') {
        this.channels.delete(operation.id);
        for (const channel of channels) channel.close();
      }
    });
  }

  /** Sends `channel` every later message of the running `operation`. */
  attach(operation: string, channel: Channel): void {
    const channels = this.channels.get(operation) ?? new Set();
    channels.add(channel);
    this.channels.set(operation, channels);
    channel.onClose(() => channels.delete(channel));
  }

  /** How many clients follow `operation` now. */
  followers(operation: string): number {
    return this.channels.get(operation)?.size ?? 0;
  }

  /**
   * Sends `channel` the messages of the log at `logPath` numbered after `since`; then, when
   * `running` is given and `follow` is set and the log has no `complete` yet, every later
   * message live. Otherwise the channel is closed at the end of the log.
   */
  replay(logPath: string, since: number, channel: Channel, running: Operation | undefined, follow: boolean): void {
    running?.log.flush();
    const past = existsSync(logPath) ? readOperationLog(logPath) : [];
    for (const message of past) if (message.seq > since) channel.send(message);
    const ended = past.at(-1)?.type === 'complete';
    if (ended || !running || !follow) {
      channel.close();
      return;
    }
    this.attach(running.id, channel);
  }
}
