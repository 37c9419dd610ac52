// The wire protocol (v1): one discriminated union on `type`, shared by the engine, every
// transport, the log files and the terminal renderer. The seed's `log` and `complete` shapes
// are kept exactly; everything else is additive, so a client that only knows those two works.

export const OPERATION_KINDS = ['create', 'destroy', 'up', 'down', 'restart'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Where a log line came from: `git`, `docker`, `tmux`, `piko` or `script:<stage>`. */
export type LogSource = 'git' | 'copy' | 'docker' | 'tmux' | 'piko' | `script:${string}`;
export type StreamName = 'stdout' | 'stderr';

export type EnvironmentMode = 'docker' | 'simple';
export type EnvironmentStatus =
  | 'creating'
  | 'running'
  | 'ready'
  | 'stopped'
  | 'failed'
  | 'destroying'
  | 'destroyed';

export interface PortBinding {
  service: string;
  containerPort: number;
  /** The host port; with `replicas`, the first of that many consecutive ports, one per replica. */
  hostPort: number;
  protocol: 'tcp' | 'udp';
  /** How many containers of the service publish this port (when more than one). */
  replicas?: number;
}

export interface EnvironmentInfo {
  id: number;
  name: string;
  project: string;
  mode: EnvironmentMode;
  status: EnvironmentStatus;
  branch: string;
  path: string;
  dataDir: string;
  ports: PortBinding[];
  /** The tmux session the operation made for it, when it made one (only in a create's `complete`). */
  tmux?: string;
  /** The socket of the tmux server that session runs on (`#{socket_path}`), wherever it was made from. */
  tmuxSocket?: string;
}

/** First message of every operation: the server (or local engine) took it and gave it an id. */
export interface AcceptedMessage {
  type: 'accepted';
  operation: string;
  action: OperationKind;
  project: string;
  environment: string;
  seq: number;
}

export interface StageStartMessage {
  type: 'stage';
  name: string;
  state: 'start';
  seq: number;
}

export interface StageEndMessage {
  type: 'stage';
  name: string;
  state: 'end';
  ok: boolean;
  durationMs: number;
  /** Set when a failure did not fail the operation (optional stage, or a forced destroy). */
  warning?: string;
  seq: number;
}

export interface StageSkipMessage {
  type: 'stage';
  name: string;
  state: 'skip';
  reason: string;
  seq: number;
}

export type StageMessage = StageStartMessage | StageEndMessage | StageSkipMessage;

export interface LogMessage {
  type: 'log';
  source: LogSource;
  stream: StreamName;
  /** One line, with its newline (a partial last line has none). Base64 when `encoding` is set. */
  data: string;
  encoding?: 'base64';
  seq: number;
}

export interface CompleteSuccessMessage {
  type: 'complete';
  success: true;
  environment: EnvironmentInfo;
  operation?: string;
  durationMs?: number;
  seq: number;
}

export interface CompleteFailureMessage {
  type: 'complete';
  success: false;
  error: string;
  /** Stable error code from core/errors.ts. */
  code?: string;
  /** What the user can do about it. */
  hint?: string;
  stage?: string;
  exitCode?: number;
  operation?: string;
  durationMs?: number;
  seq: number;
  /** The transport the project's config wants instead (`here`: run by the client itself, not through a server). */
  redirect?: string;
  /** PIKO_ERR_UNTRUSTED: the digest of what the config runs now; a request with `approve` set to it approves exactly that. */
  approval?: string;
}

export type CompleteMessage = CompleteSuccessMessage | CompleteFailureMessage;

/** The messages of an operation, each numbered by `seq` and kept in its log. */
export type OperationMessage = AcceptedMessage | StageMessage | LogMessage | CompleteMessage;

/**
 * Sent to one client only, outside the operation's numbering: this client fell behind and
 * `count` log lines were not sent to it (the operation's log still has them all).
 */
export interface DroppedMessage {
  type: 'dropped';
  operation: string;
  count: number;
}

/**
 * The batched form of `log`, for clients that ask for it (`?batch=1`): consecutive lines of one
 * source and stream, numbered `seq` … `seq + count - 1`, joined in `data`. Only UTF-8 lines go
 * in a batch; each but the last ends with a newline.
 */
export interface LogBatchMessage {
  type: 'logs';
  source: LogSource;
  stream: StreamName;
  data: string;
  seq: number;
  count: number;
}

export type ServerMessage = OperationMessage | DroppedMessage | LogBatchMessage;

/**
 * What the engine's `output` hook carries: the operation's messages with the lines of one
 * burst of a command's output as one `logs` batch (a lone line stays a `log`).
 */
export type OutputMessage = OperationMessage | LogBatchMessage;

/** A message before the engine gives it its place in the operation. */
export type Unsequenced<M> = M extends OutputMessage ? Omit<M, 'seq'> : never;

// ---- client → server requests (validated by ./requests.ts) ------------------------------------

interface RequestBase {
  /** The registered project; may be left out when the server has exactly one, or `cwd` is inside one. */
  project?: string | undefined;
  environment: string;
  /** The client's working directory: without `project`, the project it stands in is meant. */
  cwd?: string | undefined;
  /**
   * The transport the client speaks (piko's own client says). The server then checks it against
   * the project's config and, when the config wants another, answers with a `complete` whose
   * `redirect` names it, running nothing.
   */
  transport?: string | undefined;
  /**
   * Approves what the project's config runs: `true` whatever it is now (`--yes`), or the
   * `approval` digest of a refusal, which approves exactly what that refusal showed.
   */
  approve?: true | string | undefined;
}

export interface CreateRequest extends RequestBase {
  action: 'create';
  attach?: boolean | undefined;
  /** The base to branch from (default HEAD). */
  branch?: string | undefined;
  /** The environment of the same project whose ignored files the copy stage copies (default the repository's). */
  from?: string | undefined;
}

export interface DestroyRequest extends RequestBase {
  action: 'destroy';
  keepVolumes?: boolean | undefined;
  deleteBranch?: boolean | undefined;
  /** Remove the worktree even when it has uncommitted changes (`--force` implies it). */
  discardChanges?: boolean | undefined;
  force?: boolean | undefined;
}

export interface LifecycleRequest extends RequestBase {
  action: 'up' | 'down' | 'restart';
}

export type OperationRequest = CreateRequest | DestroyRequest | LifecycleRequest;

/** Renders protocol messages for a person (or as NDJSON): the local transport and every client use one. */
export interface MessageRenderer {
  render(message: ServerMessage): void;
}

/**
 * A message's JSON text, made once wherever it goes: the operation log and every client of the
 * operation get the same text for a batch, a stage, the complete. A single log line is not
 * remembered: it goes to a client that did not ask for batches (the log joins lines), and
 * remembering each would cost more than it saves.
 */
const texts = new WeakMap<object, string>();

export function messageText(message: ServerMessage): string {
  if (message.type === 'log' || message.type === 'dropped') return JSON.stringify(message);
  let text = texts.get(message);
  if (text === undefined) {
    text = JSON.stringify(message);
    texts.set(message, text);
  }
  return text;
}

/**
 * Log messages whose lines are known to hold no control character: the StreamWriter looks at a
 * chunk's bytes, where that is cheaper than a renderer's look at the text. Only in the process
 * that made them; what comes over the wire is looked at again.
 */
const plain = new WeakSet<object>();

export function markPlain(message: Unsequenced<LogMessage> | Unsequenced<LogBatchMessage>): void {
  plain.add(message);
}

export function isPlain(message: ServerMessage): boolean {
  return plain.has(message);
}

/** The label a terminal shows for a source: `script:setup` → `setup`. */
export function sourceLabel(source: string): string {
  return source.startsWith('script:') ? source.slice('script:'.length) : source;
}

/** The text of a log message (base64 payloads decoded as UTF-8 with replacement characters). */
export function logText(msg: Pick<LogMessage, 'data' | 'encoding'>): string {
  return msg.encoding === 'base64' ? Buffer.from(msg.data, 'base64').toString('utf8') : msg.data;
}
