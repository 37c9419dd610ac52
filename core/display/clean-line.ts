// A line cleaned for its reader: a progress line that redrew itself with carriage returns shows
// as what it ended on, and escape sequences (colours, cursor moves, window titles, links) never
// reach a pipe or a log reader as raw bytes. On a
// colour terminal the script's colours stay; nothing else that moves the cursor does, since that
// would write over piko's `[source]` prefix and its status line.
import type { LogBatchMessage, LogMessage, ServerMessage, Unsequenced } from '../protocol/messages.js';

/**
 * An escape sequence: CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`), the string sequences DCS,
 * SOS, PM and APC (`ESC P|X|^|_ … ST`), a two-byte escape, or a lone ESC at the end.
 */
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])?/g;
/** Select Graphic Rendition: colours and text attributes, the sequences a colour terminal keeps. */
const SGR = /^\x1b\[[0-9;:]*m$/;
/**
 * Control characters other than tab and newline, which a reader never wants to see raw: C0, DEL
 * and C1 (U+0080–U+009F, which some terminals take as escapes: U+009B is a CSI).
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
/** The same for the bytes of a line that is not UTF-8 (one character per byte): 0x80–0x9F are printable there (cp1252's €, quotes). */
const CONTROL_BYTES = /[\x00-\x08\x0b-\x1f\x7f]/;
/** An escape sequence or a control character on its own, in one pass. */
const UNSHOWN = new RegExp(`${ESCAPE.source}|${CONTROL.source}`, 'g');
const UNSHOWN_BYTES = new RegExp(`${ESCAPE.source}|${CONTROL_BYTES.source}`, 'g');
const RESET = '\x1b[0m';

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

/**
 * Whether `text`, a log message's, needs `cleanLine` at all: most output is plain and passes
 * untouched, and the StreamWriter already found much of it plain (looking at its bytes).
 */
export function needsCleaning(message: ServerMessage, text: string): boolean {
  return !isPlain(message) && CONTROL.test(text);
}

/** A log message's text without its last newline. */
export function withoutNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * One line (without its newline) as it should be shown: the last segment a carriage return left
 * (a trailing `\r`, as in CRLF or a finished progress bar, does not count), escape sequences
 * removed except colours when `keepColour`, other control characters removed. A line that kept a
 * colour ends with a reset, so it cannot bleed into the next line's prefix. `bytes`: the line is
 * the bytes of a line that is not UTF-8, one character each.
 */
export function cleanLine(line: string, keepColour: boolean, bytes = false): string {
  if (!(bytes ? CONTROL_BYTES : CONTROL).test(line)) return line;
  let text = line;
  if (text.includes('\r')) {
    const segments = text.split('\r');
    text = segments.findLast((segment) => segment.replace(ESCAPE, '') !== '') ?? '';
  }
  let coloured = false;
  text = text.replace(bytes ? UNSHOWN_BYTES : UNSHOWN, (sequence) => {
    if (keepColour && SGR.test(sequence)) {
      coloured = true;
      return sequence;
    }
    return '';
  });
  return coloured ? text + RESET : text;
}
