// The requests a client sends: their types, the schema every request passes before it can
// become an operation, and the parser the server runs on a request's JSON text.
import * as z from 'zod/mini';
import { describeIssue } from '../config/validate.js';
import { PikoError } from '../errors.js';
import { OPERATION_KINDS, type OperationKind } from './messages.js';

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

const name = () => z.optional(z.string().check(z.minLength(1, 'a non-empty string (leave the key out instead)')));

const base = {
  project: name(),
  environment: z.string(),
  cwd: name(),
  transport: name(),
  approve: z.optional(z.union([z.literal(true), z.string().check(z.minLength(1, 'true, or the approval digest of a refusal'))], { error: 'true, or the approval digest of a refusal' })),
};

export const OperationRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create'), ...base, attach: z.optional(z.boolean()), branch: name(), from: name() }),
  z.object({
    action: z.literal('destroy'),
    ...base,
    keepVolumes: z.optional(z.boolean()),
    deleteBranch: z.optional(z.boolean()),
    discardChanges: z.optional(z.boolean()),
    force: z.optional(z.boolean()),
  }),
  z.object({ action: z.enum(['up', 'down', 'restart']), ...base }),
]);

// The schema and the plain types above describe the same requests.
const sameShape: z.infer<typeof OperationRequestSchema> extends OperationRequest ? true : false = true;
void sameShape;

/**
 * A client's request as sent (JSON text) to the endpoint of `action`. The request's own
 * `action` may be left out; when given it must match the endpoint.
 */
export function parseOperationRequest(text: string, action: OperationKind): OperationRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PikoError('PIKO_ERR_USAGE', `request is not valid JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PikoError('PIKO_ERR_USAGE', 'request must be a JSON object like {"action":"create","environment":"feature-x"}');
  }
  const body = { action, ...raw } as Record<string, unknown>;
  if (!(OPERATION_KINDS as readonly unknown[]).includes(body.action)) {
    throw new PikoError('PIKO_ERR_USAGE', `unknown action ${JSON.stringify(body.action)} (known: ${OPERATION_KINDS.join(', ')})`);
  }
  if (body.action !== action) {
    throw new PikoError('PIKO_ERR_USAGE', `request action ${JSON.stringify(body.action)} does not match the ${action} endpoint`);
  }
  const parsed = OperationRequestSchema.safeParse(body);
  if (!parsed.success) throw new PikoError('PIKO_ERR_USAGE', `bad request: ${describeIssue(parsed.error, body)}`);
  return parsed.data;
}
