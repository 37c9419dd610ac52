// Batched log lines: a run of consecutive lines of one source and stream as one `logs`
// message, and back. Pure functions, used wherever batches are made or read: the engine, the
// operation log, the server's channels and the client.
import type { LogBatchMessage, LogMessage, OutputMessage, ServerMessage } from './messages.js';

/**
 * The most bytes of lines in one batch, so one batch stays small wherever it goes (a frame, a
 * line of the operation log, a replay step): below V8's large-object size, its text is a young
 * object a scavenge frees, not a large one that waits for a full collection. 256 KiB batches
 * left a 400k-line client at 76 MB peak; 48 KiB, 60.
 */
export const MAX_BATCH_BYTES = 48 * 1024;

/**
 * Messages with each run of consecutive UTF-8 log lines of one source and stream (numbered
 * without a gap, every line but the last ending in a newline) joined into `logs` batches of at
 * most MAX_BATCH_BYTES (a longer line is a batch of its own); batches already made pass as they
 * are. One JSON text for a run costs a fraction of one per line.
 */
export function batchRuns(messages: readonly OutputMessage[]): OutputMessage[] {
  const out: OutputMessage[] = [];
  let run: LogMessage[] = [];
  let runBytes = 0;
  const close = (): void => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) {
      const head = run[0]!;
      out.push({ type: 'logs', source: head.source, stream: head.stream, data: run.map((l) => l.data).join(''), seq: head.seq, count: run.length });
    }
    run = [];
    runBytes = 0;
  };
  for (const message of messages) {
    const last = run.at(-1);
    if (message.type !== 'log' || message.encoding !== undefined) {
      close();
      out.push(message);
      continue;
    }
    const follows = last && message.source === last.source && message.stream === last.stream && message.seq === last.seq + 1 && last.data.endsWith('\n');
    if (last && (!follows || runBytes + message.data.length > MAX_BATCH_BYTES)) close();
    run.push(message);
    runBytes += message.data.length;
  }
  close();
  return out;
}

/** How many log lines a message stands for: a batch's count, one for a line, none for the rest. */
export function lineCount(message: OutputMessage): number {
  return message.type === 'logs' ? message.count : message.type === 'log' ? 1 : 0;
}

/** The seq of a message's last line: a batch's, or the message's own. */
export function lastSeq(message: OutputMessage): number {
  return message.type === 'logs' ? message.seq + message.count - 1 : message.seq;
}

/**
 * Hands `take` what of `message` a reader has not seen, given the seq of the last line it has
 * (`last`), and returns the new one: a message seen whole is skipped, a batch seen in part gives
 * its unseen lines one by one. `dropped` is about the reader, not the operation: it always passes.
 * The one rule for joining a replay with what comes live, on the server and in the client.
 */
export function takeUnseen<M extends ServerMessage>(message: M, last: number, take: (message: NoInfer<M> | LogMessage) => void): number {
  if (message.type === 'dropped') {
    take(message);
    return last;
  }
  const end = lastSeq(message);
  if (end <= last) return last;
  if (message.type === 'logs' && message.seq <= last) {
    for (const line of expandBatch(message)) if (line.seq > last) take(line);
  } else {
    take(message);
  }
  return end;
}

/** A batch as the `log` messages it stands for. */
export function expandBatch(batch: LogBatchMessage): LogMessage[] {
  const lines: LogMessage[] = [];
  let start = 0;
  for (let i = 0; i < batch.count; i++) {
    const end = batch.data.indexOf('\n', start);
    const stop = end === -1 ? batch.data.length : end + 1;
    lines.push({ type: 'log', source: batch.source, stream: batch.stream, data: batch.data.slice(start, stop), seq: batch.seq + i });
    start = stop;
  }
  return lines;
}

