// The stream of the dashboard's changes (`GET /api/events`) and the overview it starts from
// (`GET /api/overview`). The state database is the one truth, whoever wrote it: the feed re-reads
// it (./overview.ts) and sends what differs from what it read last. It re-reads at once when an
// operation of this server moves (it is a plugin on every operation's engine), soon after another
// piko process writes the database (a watch on PIKO_HOME), and every few seconds besides (a watch
// can miss changes: network file systems, a full inotify table). The events are numbered and the
// last few kept (./event-history.ts), so a client that comes back resumes.
import { watch, type FSWatcher } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine, PikoPlugin } from '../../core/engine/engine.js';
import { environmentMarks } from '../../core/prune/marks.js';
import type { State } from '../../core/state/state.js';
import { startEventStream } from '../../transports/sse.js';
import { EventHistory, lastEventId } from './event-history.js';
import { OverviewReader, type FeedEvent, type Overview } from './overview.js';

const PLUGIN_NAME = 'ChangeFeed';

export interface FeedOptions {
  state: State;
  home: string;
  version: string;
  log(line: string): void;
  /** How often a quiet stream gets a comment. */
  keepAliveMs: number;
  /** How long after a write to the database it is read (writes come in bursts). Default 100 ms. */
  debounceMs?: number;
  /** How often the database is read anyway. Default 5000 ms. */
  pollMs?: number;
  /** How often, while someone follows, git is asked again for the marks (merged, gone, idle). Default 30000 ms. */
  marksMs?: number;
  /** How many events are kept for clients that resume. Default 1000. */
  history?: number;
  /** Bytes queued for one client past which it is dropped (it re-syncs when it reconnects). Default 1 MiB. */
  maxQueuedBytes?: number;
}

/** One client of the stream: what it has not taken yet is bounded, and past that it is dropped. */
export class FeedClient {
  constructor(
    private readonly res: ServerResponse,
    private readonly maxQueued: number,
    private readonly log: (line: string) => void,
  ) {}

  write(chunk: Buffer): void {
    const { res } = this;
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > this.maxQueued) {
      this.log(`events client fell behind (${res.writableLength} bytes not taken): dropped; when it reconnects it gets what it missed, or a snapshot`);
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}

export class ChangeFeed implements PikoPlugin {
  readonly name = PLUGIN_NAME;
  private readonly history: EventHistory;
  private readonly reader: OverviewReader;
  private readonly clients = new Set<FeedClient>();

  /** When git was last asked for the marks, and the runs asking it (see updateMarks). */
  private marksAt = 0;
  private marksQueued: Promise<void> | undefined;
  private marksTail: Promise<void> = Promise.resolve();

  private starting: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly options: FeedOptions) {
    this.history = new EventHistory(options.history ?? 1000);
    this.reader = new OverviewReader(options.state, options.version);
  }

  /** This server's operations: the database is read again at once when one starts, enters or leaves a stage, and ends. */
  apply(engine: Engine): void {
    engine.hooks.output.tap(PLUGIN_NAME, (message) => {
      if (message.type === 'accepted' || message.type === 'complete') this.refresh();
    });
    // After the StateRecorder's taps (stage 0), which write what the stage changed.
    engine.hooks.stageStart.tap({ name: PLUGIN_NAME, stage: 100 }, () => this.refresh());
    engine.hooks.stageEnd.tap({ name: PLUGIN_NAME, stage: 100 }, () => this.refresh());
  }

  /** Starts following the database (the first time), and resolves once the marks are known. */
  ready(): Promise<void> {
    this.starting ??= this.start().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  /** The overview now, with the marks asked of git afresh. */
  async overview(): Promise<Overview> {
    await this.ready();
    await this.updateMarks();
    this.refresh();
    return this.reader.current;
  }

  /** Answers `GET /api/events`: a snapshot, or what the client missed, then every change. */
  async subscribe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.ready();
    if (res.destroyed || this.stopped) return;
    this.refresh();
    startEventStream(res, this.options.keepAliveMs);
    const client = new FeedClient(res, this.options.maxQueuedBytes ?? 1024 * 1024, this.options.log);
    this.clients.add(client);
    res.once('close', () => this.clients.delete(client));
    const last = lastEventId(req.headers['last-event-id']);
    const missed = last === undefined ? undefined : this.history.since(last);
    const first = missed ?? this.history.snapshot(this.reader.current);
    if (first !== '') client.write(Buffer.from(first));
  }

  /** Stops watching and ends every stream. */
  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    // Open streams would hold the server's shutdown until their clients left.
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private async start(): Promise<void> {
    const { home, log } = this.options;
    this.reader.begin();
    this.started = true;
    try {
      this.watcher = watch(home, (_event, file) => {
        if (file === null || file.startsWith('state.db')) this.soon();
      });
      this.watcher.on('error', (err) => log(`the dashboard no longer watches ${home} (${err.message}); it reads the state database every ${(this.options.pollMs ?? 5000) / 1000}s instead`));
    } catch (err) {
      log(`the dashboard cannot watch ${home} (${(err as Error).message}); it reads the state database every ${(this.options.pollMs ?? 5000) / 1000}s instead`);
    }
    this.poll = setInterval(() => {
      this.refresh();
      if (this.clients.size > 0 && Date.now() - this.marksAt >= (this.options.marksMs ?? 30_000)) void this.updateMarks();
    }, this.options.pollMs ?? 5000);
    this.poll.unref();
    await this.updateMarks();
  }

  /** Reads the database soon: a write is mostly the first of a few. */
  private soon(): void {
    if (this.debounce || this.stopped) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.refresh();
    }, this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  /** Reads the database and sends what changed. Never throws: it runs inside operations' hooks. */
  private refresh(): void {
    if (!this.started || this.stopped) return;
    let reading: { events: FeedEvent[]; marksStale: boolean };
    try {
      reading = this.reader.read();
    } catch (err) {
      this.options.log(`the dashboard could not read the state database: ${(err as Error).message}`);
      return;
    }
    if (reading.marksStale) void this.updateMarks();
    this.publish(reading.events);
  }

  /**
   * Asks git for every environment's marks, one run at a time; a call while one runs waits for
   * the next run (which sees what changed meanwhile), and calls that come together share it.
   */
  private updateMarks(): Promise<void> {
    if (this.marksQueued) return this.marksQueued;
    const next = this.marksTail.then(async () => {
      this.marksQueued = undefined;
      if (this.stopped) return;
      this.marksAt = Date.now();
      try {
        const marks = await environmentMarks(this.options.state, this.options.state.listEnvironments());
        if (this.stopped) return;
        if (this.reader.setMarks(marks)) this.refresh();
      } catch (err) {
        this.options.log(`the dashboard could not tell which environments are merged, gone or idle: ${(err as Error).message}`);
      }
    });
    this.marksQueued = next;
    this.marksTail = next;
    return next;
  }

  private publish(events: FeedEvent[]): void {
    if (events.length === 0) return;
    // One buffer for every client: a burst costs its size once, however many follow it.
    const chunk = Buffer.from(this.history.append(events));
    for (const client of this.clients) client.write(chunk);
  }
}
