// One run of the engine: an id, the environment it works on, its messages (numbered without
// gaps and logged as they happen) and a way to cancel it.
import { randomBytes } from 'node:crypto';
import type { PikoConfig } from '../config/config.js';
import { PikoError } from '../errors.js';
import { OperationLog } from '../state/operation-log.js';
import { operationLogPath } from '../paths.js';
import type { LogSource, OperationKind, OutputMessage, StreamName, Unsequenced } from '../protocol/messages.js';
import type { OperationRequest } from '../protocol/requests.js';
import type { EnvironmentRow, ProjectRow } from '../state/rows.js';
import { environmentVariables } from '../environment/vars.js';

export function newOperationId(): string {
  return `op_${randomBytes(6).toString('hex')}`;
}

/** Whether `text` has the form of an operation id (so it is safe in a file name, too). */
export const isOperationId = (text: string): boolean => /^op_[0-9a-f]{12}$/.test(text);

export interface OperationSpec {
  id?: string;
  kind: OperationKind;
  request: OperationRequest;
  project: ProjectRow;
  /** The environment row this operation works on (reserved by a create). Stages update this copy. */
  environment: EnvironmentRow;
  config: PikoConfig;
  /** Where the operation's log goes (`$PIKO_HOME/logs/<id>.ndjson`). */
  home: string;
  /** Said as `[piko]` lines right after `accepted` (which project was meant, when the user did not say). */
  notes?: string[] | undefined;
  /** The worktree a create copies ignored files from: `--from`'s, else the repository's own. */
  source?: string | undefined;
  /** The name of the file the config came from (`.piko.yml`), for errors that name it. */
  configFile?: string | undefined;
  /** The port block of the project's shared services, when its config shares any. */
  sharedBlock?: number | undefined;
}

type Emit = (operation: Operation, message: Unsequenced<OutputMessage>) => OutputMessage | undefined;

export class Operation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly request: OperationRequest;
  readonly project: ProjectRow;
  readonly environment: EnvironmentRow;
  readonly config: PikoConfig;
  readonly home: string;
  readonly notes: readonly string[];
  /** The worktree a create copies ignored files from. */
  readonly source: string;
  /** The port block of the project's shared services, when its config shares any. */
  readonly sharedBlock: number | undefined;
  readonly configFile: string | undefined;
  readonly log: OperationLog;
  /** Free space for plugins to keep per-operation data, keyed by plugin name. */
  readonly data = new Map<string, unknown>();
  /** Set by the engine when a rollback step failed, so something it made may still be there. */
  rollbackIncomplete = false;

  private nextSeq = 0;
  private readonly abort = new AbortController();
  private readonly emitter: Emit;
  private closed = false;

  constructor(spec: OperationSpec, emit: Emit) {
    this.id = spec.id ?? newOperationId();
    this.kind = spec.kind;
    this.request = spec.request;
    this.project = spec.project;
    this.environment = { ...spec.environment };
    this.config = spec.config;
    this.home = spec.home;
    this.notes = spec.notes ?? [];
    this.source = spec.source ?? spec.project.root;
    this.configFile = spec.configFile;
    this.sharedBlock = spec.sharedBlock;
    this.log = new OperationLog(operationLogPath(spec.home, this.id), (err) => this.logFailed(err));
    this.emitter = emit;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stops the running stage (its whole process group) and rolls back; `reason` says why. */
  cancel(reason: PikoError | string): void {
    if (this.abort.signal.aborted) return;
    const error =
      typeof reason === 'string' ? new PikoError('PIKO_ERR_CANCELLED', `cancelled by ${reason}`) : reason;
    this.abort.abort(error);
  }

  /**
   * The log cannot be written: the operation fails (and rolls back), since nobody could replay
   * it; the live stream goes on, saying so.
   */
  private logFailed(err: NodeJS.ErrnoException): void {
    const why = `${err.code ?? 'error'}: ${err.message.replace(/^\w+: /, '')}`;
    this.info('piko', `warning: the operation log ${this.log.path} cannot be written (${why}); what follows is only in this stream`, 'stderr');
    this.cancel(new PikoError('PIKO_ERR_LOG_UNWRITABLE', `the operation log ${this.log.path} cannot be written (${why})`));
  }

  /** Why the operation was stopped from outside its stages, if it was. */
  get cancelReason(): PikoError | undefined {
    return this.abort.signal.aborted ? (this.abort.signal.reason as PikoError) : undefined;
  }

  /** Gives the message its seq, logs it and hands it to every `output` tap (and, line by line, to every `message` tap). */
  emit(message: Unsequenced<OutputMessage>): OutputMessage | undefined {
    if (this.closed) return undefined;
    return this.emitter(this, message);
  }

  /** A line of piko's own under `source` (`[docker] web: 8080 → 10180`). */
  info(source: LogSource, text: string, stream: StreamName = 'stdout'): void {
    this.emit({ type: 'log', source, stream, data: text.endsWith('\n') ? text : `${text}\n` });
  }

  /** @internal The engine's counter: 0, 1, 2… without gaps; `count` numbers for a batch of lines. */
  takeSeq(count = 1): number {
    const seq = this.nextSeq;
    this.nextSeq += count;
    return seq;
  }

  /** @internal Called by the engine after `complete`. */
  close(): void {
    this.closed = true;
    this.log.close();
  }

  /** Every PIKO_* variable of the environment as it stands now. */
  vars(): Record<string, string> {
    return environmentVariables(this.project.root, this.environment);
  }
}
