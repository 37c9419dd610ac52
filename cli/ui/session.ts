// One operation as a panel of the page shows it: its messages rendered by the terminal's own
// TerminalRenderer (so the page shows the lines `piko create` shows, colours, ✓/✗ line and
// all), kept in a LineStore, and what the panel shows besides the lines (its stages with their
// times, how it ended, a refusal the person can answer). Pure: no DOM, no network.
import { takeUnseen } from '../../core/protocol/batch.js';
import type { CompleteMessage, OperationKind, ServerMessage } from '../../core/protocol/messages.js';
import { sourceLabel } from '../../core/display/log-lines.js';
import { TerminalRenderer } from '../terminal/render.js';
import { LineStore } from './line-store.js';
import { stripSgr } from './sgr.js';

/** A request the page sends (core/protocol/requests.ts's OperationRequest, without what only the CLI sends). */
export interface OperationRequestBody {
  action: OperationKind;
  project: string;
  environment: string;
  branch?: string;
  from?: string;
  keepVolumes?: boolean;
  deleteBranch?: boolean;
  discardChanges?: boolean;
  force?: boolean;
  approve?: string;
}

export interface StageView {
  name: string;
  label: string;
  state: 'running' | 'ok' | 'failed' | 'skipped';
  durationMs?: number;
  /** When its start was seen (epoch ms): its clock while it runs, on a live operation. */
  seenAt: number;
  /** A failure that did not fail the operation, or why it was skipped. */
  note?: string;
}

/** A refusal the page turns into a choice. */
export type Refusal =
  /** A destroy refused for work a person made: the changes, and how many more there are than listed. */
  | { kind: 'dirty'; path: string; changes: string[]; more: number }
  /** The project's config changed since it was approved: the difference, and the digest approving exactly that. */
  | { kind: 'untrusted'; difference: string; approval: string };

export type Phase = 'starting' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'refused' | 'lost';

function refusalOf(message: CompleteMessage): Refusal | undefined {
  if (message.success) return undefined;
  if (message.code === 'PIKO_ERR_UNTRUSTED' && message.approval) return { kind: 'untrusted', difference: message.error, approval: message.approval };
  if (message.code === 'PIKO_ERR_WORKTREE_DIRTY' && message.dirty) return { kind: 'dirty', ...message.dirty };
  return undefined;
}

export interface SessionOptions {
  /** The request this page sent, when it started the operation (a refusal is answered by sending it again). */
  request?: OperationRequestBody;
  /** For an operation this page did not start: what it is. */
  operation?: string;
  action?: OperationKind;
  project?: string;
  environment?: string;
  /** When it started (epoch ms), when known. */
  startedAt?: number;
  /** LineStore's memory bound. */
  maxChars?: number;
  now?: () => number;
}

/** Escape sequences alone after the last newline. */
const TRAILING_SGR = /\n((?:\x1b\[[0-9;:]*m)+)$/;

export class OperationSession {
  readonly store: LineStore;
  readonly stages: StageView[] = [];
  readonly request: OperationRequestBody | undefined;
  id: string | undefined;
  action: OperationKind | undefined;
  project: string | undefined;
  environment: string | undefined;
  startedAt: number | undefined;
  phase: Phase = 'starting';
  complete: CompleteMessage | undefined;
  refusal: Refusal | undefined;
  /** What the renderer said at the end (the stage summary and the ✓/✗ lines), as it wrote it. */
  final = '';
  /** Log lines the server could not send to this page (it fell behind); the log has them. */
  dropped = 0;
  /** Why the page stopped hearing from it, when `lost`. */
  lostReason = '';
  /** The seq of the last message taken: where a re-attach resumes. */
  last = -1;
  private readonly renderer: TerminalRenderer;
  private readonly decoder = new TextDecoder();
  private readonly now: () => number;
  private stderr = false;
  private ending = false;

  constructor(options: SessionOptions = {}) {
    this.request = options.request;
    this.id = options.operation;
    this.action = options.action ?? options.request?.action;
    this.project = options.project ?? options.request?.project;
    this.environment = options.environment ?? options.request?.environment;
    this.startedAt = options.startedAt;
    this.now = options.now ?? Date.now;
    this.store = new LineStore(options.maxChars);
    this.renderer = new TerminalRenderer({
      write: (text) => this.write(text),
      color: true,
      ...(this.environment === undefined ? {} : { environment: this.environment }),
      ...(options.startedAt === undefined ? {} : { startedAt: options.startedAt }),
    });
  }

  /** Whether it has ended, one way or another. */
  get ended(): boolean {
    return this.phase !== 'starting' && this.phase !== 'running';
  }

  /**
   * One message of the operation's stream. What was taken already (a re-attach's replay overlaps
   * what came live) is skipped, lines of a batch included.
   */
  feed(message: ServerMessage): void {
    if (message.type !== 'dropped' && typeof message.seq !== 'number') {
      this.take(message);
      return;
    }
    this.last = takeUnseen(message, this.last, (m) => this.take(m));
  }

  private take(message: ServerMessage): void {
    switch (message.type) {
      case 'accepted':
        this.id = message.operation;
        this.action = message.action;
        this.project = message.project;
        this.environment = message.environment;
        this.startedAt ??= this.now();
        this.phase = 'running';
        break;
      case 'stage':
        this.stage(message);
        break;
      case 'log':
      case 'logs':
        this.stderr = message.stream === 'stderr';
        break;
      case 'dropped':
        this.dropped += message.count;
        break;
      case 'complete':
        this.complete = message;
        this.refusal = refusalOf(message);
        if (message.operation) this.id ??= message.operation;
        this.phase = message.success
          ? 'succeeded'
          : message.code === 'PIKO_ERR_CANCELLED'
            ? 'cancelled'
            : this.id === undefined
              ? 'refused'
              : 'failed';
        this.ending = true;
        break;
    }
    try {
      this.renderer.render(message);
    } finally {
      this.stderr = false;
      this.ending = false;
    }
  }

  private stage(message: Extract<ServerMessage, { type: 'stage' }>): void {
    const label = sourceLabel(message.name);
    if (message.state === 'start') {
      this.stages.push({ name: message.name, label, state: 'running', seenAt: this.now() });
    } else if (message.state === 'skip') {
      this.stages.push({ name: message.name, label, state: 'skipped', seenAt: this.now(), note: message.reason });
    } else {
      const stage = this.stages.findLast((s) => s.name === message.name && s.state === 'running');
      if (!stage) return;
      stage.state = message.ok ? 'ok' : 'failed';
      stage.durationMs = message.durationMs;
      if (message.warning) stage.note = message.warning;
    }
  }

  private write(text: string | Uint8Array): void {
    // A line that is not UTF-8 comes as its bytes: shown as a UTF-8 terminal shows them.
    let shown = typeof text === 'string' ? text : this.decoder.decode(text);
    // picocolors closes a colour after the text it wraps, newline included (`dim('  ports: …\n')`):
    // the close goes before the newline, or it would be a line of its own, empty, on the page.
    if (!shown.endsWith('\n')) shown = shown.replace(TRAILING_SGR, '$1\n');
    if (this.ending) this.final += shown;
    this.store.append(shown, this.stderr);
  }

  /** The connection ended before `complete`, and could not be taken up again. */
  lose(reason: string): void {
    if (this.ended) return;
    this.phase = 'lost';
    this.lostReason = reason;
  }

  /** The output as plain text (what the terminal shows, without colours): a download. */
  *plainText(): Generator<string> {
    for (const text of this.store.texts()) yield stripSgr(text);
  }
}
