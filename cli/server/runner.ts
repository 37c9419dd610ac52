// The server's operations: a request becomes an operation (checked, claimed, then run on an
// engine of its own) streamed to the channel that asked; running ones can be cancelled or
// followed by other clients. Every request being checked and every operation running is a
// promise in one set, so a shutdown waits for exactly those (and nothing polls).
import { Engine, type PikoPlugin } from '../../core/engine/engine.js';
import { isOperationId, type Operation } from '../../core/engine/operation.js';
import { PikoError } from '../../core/errors.js';
import { operationLogPath } from '../../core/paths.js';
import { ConfigCache } from '../../core/config/cache.js';
import type { CompleteFailureMessage, OperationKind } from '../../core/protocol/messages.js';
import type { OperationRequest } from '../../core/protocol/requests.js';
import { parseOperationRequest } from '../../core/protocol/requests.js';
import { rejection } from '../../core/protocol/rejection.js';
import { prepareOperation } from '../../core/prepare/prepare.js';
import type { State } from '../../core/state/state.js';
import { codeConfigApproved } from '../../core/config/trust.js';
import type { Channel } from '../../transports/channel.js';
import type { OperationHub } from '../../transports/hub.js';
import { meantProject } from '../../core/state/resolve.js';
import { chooseTransport } from '../../core/config/transport.js';
import { IdleCollector } from './idle.js';

export interface RunnerOptions {
  state: State;
  home: string;
  hub: OperationHub;
  /** Plugins every operation's engine gets, before the project's own. */
  plugins: PikoPlugin[];
  /** This server's URL, once it listens (a project's config may name another server). */
  url(): string | undefined;
  log(line: string): void;
}

export class OperationRunner {
  private readonly running = new Map<string, Operation>();
  private readonly configs = new ConfigCache();
  /** Requests being checked and operations running: what a shutdown waits for. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /** Set once a shutdown has waited long enough: operations still starting are cancelled too. */
  private cancelling = false;
  /** Gives back the memory an operation's output made V8 take, once nothing is in flight. */
  private readonly idle = new IdleCollector();

  constructor(private readonly options: RunnerOptions) {}

  /** How many operations run now. */
  get size(): number {
    return this.running.size;
  }

  /** Turns a request into a running operation streamed to the channel `open` makes, or refuses it. Never throws. */
  begin(text: string, action: OperationKind, open: (operation: string) => Channel, refuseWith: (complete: CompleteFailureMessage) => void): void {
    this.track(
      this.start(text, action, open, refuseWith).catch((err: unknown) =>
        this.options.log(`${action} request: internal error: ${(err as Error).message}`),
      ),
    );
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    this.idle.busy();
    void promise.finally(() => {
      this.inFlight.delete(promise);
      if (this.inFlight.size === 0 && !this.closed) this.idle.idle();
    });
  }

  private async start(
    text: string,
    action: OperationKind,
    open: (operation: string) => Channel,
    refuseWith: (complete: CompleteFailureMessage) => void,
  ): Promise<void> {
    const { state, home, hub, plugins, log } = this.options;
    let prepared;
    try {
      if (this.closed) throw new PikoError('PIKO_ERR_USAGE', 'the server is shutting down');
      const request = parseOperationRequest(text, action);
      // A client that did not name the project means the one it stands in.
      const notes: string[] = [];
      if (request.project === undefined && request.cwd !== undefined) {
        const { project, note } = await meantProject(state, undefined, request.cwd);
        request.project = project.name;
        if (note) notes.push(note);
      }
      const redirect = await this.redirect(request);
      if (redirect !== undefined) {
        log(`${action} request for ${request.environment}: the project's config wants ${redirect === 'here' ? 'it run by the client' : redirect}`);
        refuseWith({ ...rejection(new PikoError('PIKO_ERR_USAGE', `the project's config sends ${request.environment} over ${redirect}`)), redirect });
        return;
      }
      prepared = await prepareOperation(
        { state, home, engineFor: (project) => new Engine().use(...plugins, ...project), readConfig: (root) => this.configs.read(root), notes },
        request,
      );
    } catch (err) {
      const complete = rejection(err);
      log(`refused ${action} request: ${complete.error}`);
      refuseWith(complete);
      return;
    }
    const { engine, operation } = prepared;
    const channel = open(operation.id);
    hub.attach(operation.id, channel);
    channel.onClose(() => {
      if (this.running.has(operation.id)) log(`${operation.id}: a client disconnected; the operation goes on`);
    });
    this.running.set(operation.id, operation);
    if (this.cancelling) operation.cancel('the server shutting down');
    this.track(engine.run(operation).finally(() => this.running.delete(operation.id)));
  }

  /**
   * For a client that said which transport it speaks: the one the project's config wants
   * instead (`here` when the client must run it itself: `stdout`, a plugin's transport, or
   * another server), or undefined when it is the right one.
   */
  private async redirect(request: OperationRequest): Promise<string | undefined> {
    if (request.transport === undefined) return undefined;
    const { root } = this.options.state.requestProject(request.project);
    // A config that is code and not approved is not read here: preparing the operation refuses it.
    if (!codeConfigApproved(this.options.home, root)) return undefined;
    const { config } = await this.configs.read(root);
    const own = this.options.url();
    if (config.server?.url && own && new URL(config.server.url).origin !== new URL(own).origin) return 'here';
    const wanted = chooseTransport(undefined, config, request.environment, {});
    if (wanted === request.transport) return undefined;
    return wanted === 'websocket' || wanted === 'sse' ? wanted : 'here';
  }

  /** Whether `operation` is one this server's state knows (running or not). */
  knows(operation: string): boolean {
    return isOperationId(operation) && this.options.state.operation(operation) !== undefined;
  }

  /** Cancels a running operation; `body` may say who asks (`{"by": "…"}`). */
  cancel(operation: string, body: string): { status: number; reply: object } {
    const running = this.running.get(operation);
    if (!running) {
      return this.knows(operation)
        ? { status: 409, reply: { error: `operation ${operation} is not running on this server (it is ${this.options.state.operation(operation)!.status})` } }
        : { status: 404, reply: { error: `no operation ${operation}` } };
    }
    let by = 'a cancel request to the server';
    try {
      const asked = (JSON.parse(body || '{}') as { by?: unknown }).by;
      if (typeof asked === 'string' && asked.trim() !== '') by = asked.slice(0, 200);
    } catch {
      // No (valid) body: who asked stays unnamed.
    }
    this.options.log(`${operation}: cancel requested by ${by}`);
    running.cancel(by);
    return { status: 202, reply: { operation, cancelling: true } };
  }

  /** Replays an operation's log after `since` and, while it runs (and `follow`), follows it live. */
  reattach(operation: string, since: number, follow: boolean, channel: Channel): void {
    const { hub, home, log } = this.options;
    hub.replay(operationLogPath(home, operation), since, channel, this.running.get(operation), follow).catch((err: unknown) => {
      log(`${operation}: replay failed: ${(err as Error).message}`);
      channel.close();
    });
  }

  /**
   * Takes no new requests; waits up to `timeoutMs` for what is in flight, then cancels the
   * operations still running (which rolls them back) and waits for them to end.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    this.idle.busy();
    if (this.inFlight.size === 0) return;
    this.options.log(`waiting up to ${timeoutMs / 1000}s for ${this.inFlight.size} running operation(s)`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.settled(), deadline]);
    clearTimeout(timer);
    this.cancelling = true;
    for (const operation of this.running.values()) operation.cancel('the server shutting down');
    await this.settled();
  }

  /** Resolves when nothing is in flight, including what started while waiting. */
  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
