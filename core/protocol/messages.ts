// The wire protocol (v1): one discriminated union on `type`, shared by the engine, every
// transport, the log files and the terminal renderer. The seed's `log` and `complete` shapes
// are kept exactly; everything else is additive, so a client that only knows those two works.

export const OPERATION_KINDS = ['create', 'destroy', 'up', 'down', 'restart'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Where a log line came from: `git`, `copy`, `docker`, `shared`, `database`, `tmux`, `piko` or `script:<stage>`. */
export type LogSource = 'git' | 'copy' | 'docker' | 'shared' | 'database' | 'tmux' | 'piko' | `script:${string}`;
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

/** A shared service an environment uses: where the host reaches it, and the environment's own database on it. */
export interface SharedUse {
  service: string;
  /** What the shared service publishes, on the project's shared port block. */
  ports: PortBinding[];
  /** The environment's database on that server, when it has one of its own. */
  database?: {
    kind: 'postgres' | 'mysql';
    name: string;
    /** Inside the environment's network: `postgres://user:pass@db:5432/name`. */
    url: string;
    /** From the host, on the published port. */
    hostUrl: string;
  };
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
  /** The project's shared services it uses (none: not there). */
  shared?: SharedUse[];
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
  /** PIKO_ERR_WORKTREE_DIRTY: the worktree and the changes someone made in it (a request with `discardChanges` throws them away). */
  dirty?: DirtyWorktree;
}

/** A worktree with changes someone made: where, the changes (`git status --porcelain` lines, the first ones), and how many more there are. */
export interface DirtyWorktree {
  path: string;
  changes: string[];
  more: number;
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

/** Renders protocol messages for a person (or as NDJSON): the local transport and every client use one. */
export interface MessageRenderer {
  render(message: ServerMessage): void;
}
