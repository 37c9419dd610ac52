// An operation's output as the page keeps it: every line the renderer wrote, in memory as the
// strings it wrote them in (a batch of hundreds of lines is one string, not hundreds), and the
// arithmetic of which of them the DOM holds. A create that prints 400,000 lines costs the page
// its text once, and the DOM a bounded tail; lines are cut out of a string only to be shown.
// Pure: no DOM.

export interface StoredLine {
  text: string;
  stderr: boolean;
}

interface Chunk {
  text: string;
  /** The index of its first line. */
  first: number;
  count: number;
  stderr: boolean;
}

/** Lines in a piece of written text: each ends with a newline, and a last one without counts too. */
export function countLines(text: string): number {
  if (text === '') return 0;
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return text.endsWith('\n') ? count : count + 1;
}

/** The lines of a piece of written text, without their newlines. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

export class LineStore {
  private chunks: Chunk[] = [];
  /** Chunks before this index were let go (memory), and are kept only as holes in the numbering. */
  private head = 0;
  private chars = 0;
  private count = 0;

  /**
   * @param maxChars past this many characters the oldest chunks are let go (counted in `first`):
   * a log of hundreds of megabytes must not take the tab down. The server still has it all.
   */
  constructor(private readonly maxChars = 64 * 1024 * 1024) {}

  /** Adds what the renderer wrote (one or more lines); returns how many lines that was. */
  append(text: string, stderr = false): number {
    const count = countLines(text);
    if (count === 0) return 0;
    this.chunks.push({ text, first: this.count, count, stderr });
    this.count += count;
    this.chars += text.length;
    while (this.chars > this.maxChars && this.chunks.length - this.head > 1) {
      this.chars -= this.chunks[this.head]!.text.length;
      this.chunks[this.head++] = undefined as unknown as Chunk;
    }
    // Let go of the array's front now and then, not on every eviction.
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return count;
  }

  /** Lines ever appended: the end of the numbering. */
  get total(): number {
    return this.count;
  }

  /** The first line still in memory (0 until a big log made room). */
  get first(): number {
    return this.head < this.chunks.length ? this.chunks[this.head]!.first : this.count;
  }

  /** Characters held. */
  get size(): number {
    return this.chars;
  }

  /** Lines `from` … `to - 1` (clipped to what is held). */
  lines(from: number, to: number): StoredLine[] {
    const start = Math.max(from, this.first);
    const end = Math.min(to, this.count);
    const out: StoredLine[] = [];
    if (start >= end) return out;
    // The chunk holding `start`: the last whose first line is at or before it.
    let low = this.head;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.chunks[mid]!.first <= start) low = mid;
      else high = mid - 1;
    }
    for (let i = low; i < this.chunks.length && out.length < end - start; i++) {
      const chunk = this.chunks[i]!;
      const lines = chunk.count === 1 ? [chunk.text.endsWith('\n') ? chunk.text.slice(0, -1) : chunk.text] : splitLines(chunk.text);
      const skip = Math.max(0, start - chunk.first);
      const take = Math.min(chunk.count, end - chunk.first);
      for (let j = skip; j < take; j++) out.push({ text: lines[j] ?? '', stderr: chunk.stderr });
    }
    return out;
  }

  /** Everything held, as written (for a download): one string per chunk, in order. */
  *texts(): Generator<string> {
    for (let i = this.head; i < this.chunks.length; i++) {
      const text = this.chunks[i]!.text;
      yield text.endsWith('\n') ? text : `${text}\n`;
    }
  }
}

/** The lines the DOM holds: `start` … `end - 1`. */
export interface LineWindow {
  start: number;
  end: number;
}

export interface AppendPlan {
  /** Lines to add at the bottom, `from` … `to - 1` (none when from = to). */
  from: number;
  to: number;
  /** How many lines to take off the top first (all of them when the new ones do not join on). */
  drop: number;
  window: LineWindow;
  /** Lines past the window the reader has not been shown (while they read further up). */
  behind: number;
}

export interface WindowLimits {
  /** Lines the DOM holds while the reader follows the end. */
  tail: number;
  /** Lines one frame builds at most: a burst bigger than that shows its end, and the rest is filled in above while things are quiet. */
  perFrame: number;
}

/**
 * What one frame does with the lines that came since the last: while the reader follows the
 * end, the window moves to the end (lines nobody could read as they flew by are not built), and
 * holds at most the last `tail`; while they read higher up, the DOM is left alone and the new
 * lines are counted.
 */
export function planAppend(window: LineWindow, total: number, limits: WindowLimits, following: boolean, first = 0): AppendPlan {
  if (!following) return { from: window.end, to: window.end, drop: 0, window, behind: total - window.end };
  const from = Math.max(window.end, total - limits.perFrame, first);
  if (from > window.end) {
    // A gap: the window starts over at `from`.
    return { from, to: total, drop: window.end - window.start, window: { start: from, end: total }, behind: 0 };
  }
  const start = Math.max(window.start, total - limits.tail);
  return { from, to: total, drop: start - window.start, window: { start, end: total }, behind: 0 };
}

/**
 * The lines to put above the window, `from` … `to - 1`, so that a reader following the end has
 * the whole tail again after a burst: at most `budget` of them (what is left of this frame's).
 */
export function planBackfill(window: LineWindow, total: number, limits: WindowLimits, budget: number, first = 0): { from: number; to: number; window: LineWindow } | undefined {
  const wanted = Math.max(first, total - limits.tail);
  if (window.end !== total || window.start <= wanted || budget <= 0) return undefined;
  const from = Math.max(wanted, window.start - budget);
  return { from, to: window.start, window: { start: from, end: window.end } };
}

/** "Show earlier lines": the `chunk` lines before the window (as far as memory goes), to put on top. */
export function planEarlier(window: LineWindow, chunk: number, first = 0): { from: number; to: number; window: LineWindow } {
  const from = Math.max(first, window.start - chunk);
  return { from, to: window.start, window: { start: from, end: window.end } };
}
