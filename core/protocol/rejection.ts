// The answer to a request that never became an operation: its one `complete`, failed.
import { toPikoError } from '../errors.js';
import type { CompleteFailureMessage } from './messages.js';

/** The `complete` message for a request that was refused before it became an operation. */
export function rejection(err: unknown): CompleteFailureMessage {
  const error = toPikoError(err);
  return { type: 'complete', success: false, error: error.message, code: error.code, hint: error.hint, ...(error.approval && { approval: error.approval }), ...(error.dirty && { dirty: error.dirty }), seq: 0 };
}
