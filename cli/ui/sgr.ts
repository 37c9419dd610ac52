// The colours of a rendered line as spans the page can show: the TerminalRenderer (and the
// scripts whose colours it keeps) speak SGR escape sequences; the page needs text and classes.
// Pure: no DOM here, so it is tested in Node and the page only turns spans into elements.

/** A run of text in one style: `classes` names the page's CSS classes, `color` a colour no class has (256 colours, 24-bit). */
export interface Span {
  text: string;
  classes: string;
  color?: string;
}

interface Style {
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  /** 0–15: the terminal palette (a class each); a string: an `rgb()` of its own. */
  fg: number | string | undefined;
}

const plainStyle = (): Style => ({ bold: false, dim: false, italic: false, underline: false, fg: undefined });

/**
 * Any CSI sequence: SGR (`m`) is read, the rest dropped. The renderer already removes every other
 * escape; this is what keeps a stray one from reaching the page as a raw ESC.
 */
const CSI = /\x1b\[([0-?]*)[ -/]*([@-~])/g;
/** ESC or a C1 control left over after CSI sequences are read: never shown. */
const LEFTOVER = /[\x1b\x9b]/g;

/** The text of a line without its escape sequences (what a download or a copy holds). */
export function stripSgr(text: string): string {
  return text.includes('\x1b') ? text.replace(CSI, '').replace(LEFTOVER, '') : text;
}

/** xterm's 256-colour cube and grey ramp, for the colours past the sixteen the palette names. */
function xterm256(n: number): number | string | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
  if (n < 16) return n;
  if (n >= 232) {
    const grey = 8 + (n - 232) * 10;
    return `rgb(${grey},${grey},${grey})`;
  }
  const cube = n - 16;
  const level = (v: number): number => (v === 0 ? 0 : 55 + v * 40);
  return `rgb(${level(Math.floor(cube / 36))},${level(Math.floor(cube / 6) % 6)},${level(cube % 6)})`;
}

function rgb(r: number | undefined, g: number | undefined, b: number | undefined): string | undefined {
  const ok = (v: number | undefined): v is number => v !== undefined && Number.isInteger(v) && v >= 0 && v <= 255;
  return ok(r) && ok(g) && ok(b) ? `rgb(${r},${g},${b})` : undefined;
}

/** Applies one SGR parameter list (`1;38;5;208`) to `style`. Codes the page does not show are skipped, with their arguments. */
function applySgr(style: Style, params: string): void {
  const groups = params === '' ? ['0'] : params.split(';');
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (group.includes(':')) {
      // ISO 8613-6 sub-parameters: `38:5:208`, `38:2::255:128:0` (an empty colour-space id), `4:3`.
      const sub = group.split(':').map((v) => (v === '' ? undefined : Number(v)));
      if (sub[0] === 38 && sub[1] === 5) style.fg = xterm256(sub[2] ?? -1) ?? style.fg;
      else if (sub[0] === 38 && sub[1] === 2) style.fg = rgb(...(sub.slice(-3) as [number, number, number])) ?? style.fg;
      else if (sub[0] === 4) style.underline = sub[1] !== 0;
      continue;
    }
    const code = group === '' ? 0 : Number(group);
    if (code === 38 || code === 48 || code === 58) {
      // Extended colours: foreground taken, background and underline colour skipped.
      const kind = groups[i + 1];
      const args = kind === '5' ? 1 : kind === '2' ? 3 : 0;
      if (code === 38 && kind === '5') style.fg = xterm256(Number(groups[i + 2])) ?? style.fg;
      if (code === 38 && kind === '2') style.fg = rgb(Number(groups[i + 2]), Number(groups[i + 3]), Number(groups[i + 4])) ?? style.fg;
      i += 1 + args;
      continue;
    }
    if (code === 0) Object.assign(style, plainStyle());
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code >= 30 && code <= 37) style.fg = code - 30;
    else if (code === 39) style.fg = undefined;
    else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
  }
}

function classesOf(style: Style): string {
  const classes: string[] = [];
  if (style.bold) classes.push('b');
  if (style.dim) classes.push('d');
  if (style.italic) classes.push('i');
  if (style.underline) classes.push('u');
  if (typeof style.fg === 'number') classes.push(`c${style.fg}`);
  return classes.join(' ');
}

/**
 * A line (or any text) as spans of one style each, adjacent spans of the same style joined. The
 * style starts plain: every coloured line the renderer writes ends with a reset.
 */
export function sgrSpans(text: string): Span[] {
  if (!text.includes('\x1b')) return text === '' ? [] : [{ text, classes: '' }];
  const spans: Span[] = [];
  const style = plainStyle();
  const push = (part: string): void => {
    const clean = part.replace(LEFTOVER, '');
    if (clean === '') return;
    const classes = classesOf(style);
    const color = typeof style.fg === 'string' ? style.fg : undefined;
    const last = spans.at(-1);
    if (last && last.classes === classes && last.color === color) last.text += clean;
    else spans.push(color === undefined ? { text: clean, classes } : { text: clean, classes, color });
  };
  let at = 0;
  CSI.lastIndex = 0;
  for (let match = CSI.exec(text); match; match = CSI.exec(text)) {
    push(text.slice(at, match.index));
    if (match[2] === 'm') applySgr(style, match[1]!);
    at = match.index + match[0].length;
  }
  push(text.slice(at));
  return spans;
}
