// How times, ports and operations read on the page. Pure.
import { formatDuration } from '../../core/display/log-lines.js';
import type { PortBinding } from '../../core/protocol/messages.js';
import type { OperationSummary } from './model.js';

export { formatDuration };

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago`, from an ISO time. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  const then = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(then)) return '';
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

/**
 * The address of a published port, made from the number alone (never from text a server or a
 * compose file gave): undefined for anything that is not a port.
 */
export function portUrl(port: unknown): string | undefined {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? `http://localhost:${port}` : undefined;
}

/** Each host port a binding publishes: one, or one per replica (a handful at most; the rest are in the range). */
export function hostPorts(binding: PortBinding, most = 8): number[] {
  const replicas = Math.max(1, Math.min(binding.replicas ?? 1, most));
  return Array.from({ length: replicas }, (_, i) => binding.hostPort + i);
}

const VERBS: Record<string, string> = { create: 'created', destroy: 'destroyed', up: 'started', down: 'stopped', restart: 'restarted' };

/** `create succeeded in 14.2s`, `setup failed`, `running (setup)`: an operation in a few words. */
export function operationLine(op: OperationSummary): string {
  if (op.status === 'running') return `${op.kind} running${op.stage ? ` (${op.stage})` : ''}`;
  const took = op.durationMs === null || op.durationMs === undefined ? '' : ` in ${formatDuration(op.durationMs)}`;
  if (op.status === 'succeeded') return `${VERBS[op.kind] ?? op.kind}${took}`;
  return `${op.kind} failed${op.stage ? ` at ${op.stage}` : ''}${took}`;
}

/** Numbers as the reader's locale writes them, through one formatter (toLocaleString makes one each call). */
const NUMBER = new Intl.NumberFormat();
export const formatCount = (n: number): string => NUMBER.format(n);
