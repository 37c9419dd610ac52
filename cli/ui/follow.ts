// Whether the log follows its end, from where its scroll position is. Only the reader stops it:
// a scroll position above the one the page itself last set. Layout can move the end away from
// the reader without them doing anything (lines laid out taller than first thought, wrapped
// lines, a font come late): the end is then pinned again, not given up. Pure: numbers in, a
// decision out.

/** A scrolled box's geometry (scrollTop, scrollHeight, clientHeight), in CSS pixels. */
export interface ScrollGeometry {
  top: number;
  height: number;
  client: number;
}

/** How close to the bottom (px) counts as at the end. */
const AT_END_PX = 24;
/** Scroll positions are fractional: a difference below this is rounding, not a move. */
const MOVED_PX = 1;

export function atEnd(g: ScrollGeometry): boolean {
  return g.height - g.top - g.client < AT_END_PX;
}

/**
 * What a scroll event means: `stop` (the reader went up: stop following), `resume` (they came back
 * down to the end), `pin` (still following, but the end moved away: scroll to it again), or
 * `none`. `pinned` is the scroll position the page last set while following.
 */
export function afterScroll(following: boolean, pinned: number, g: ScrollGeometry): 'stop' | 'resume' | 'pin' | 'none' {
  const end = atEnd(g);
  if (!following) return end ? 'resume' : 'none';
  if (end) return 'none';
  return g.top < pinned - MOVED_PX ? 'stop' : 'pin';
}
