// The page's whole view layer: elements made by one function that only ever puts text in as
// text. There is no way through it to HTML: a string child is a text node, attributes are set
// one by one, handlers are functions.
import { sgrSpans } from '../sgr.js';

type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** The element's stable name for tests (puppeteer): `data-testid`. */
  testid?: string;
  /** Attributes, set with setAttribute (so a value is never markup). */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.testid) el.dataset.testid = props.testid;
    for (const [name, value] of Object.entries(props.attrs ?? {})) {
      if (value === undefined || value === false) continue;
      el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const [type, listener] of Object.entries(props.on ?? {})) el.addEventListener(type, listener as EventListener);
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * A line of terminal output as nodes: its colours as spans with classes (an `rgb()` of its own set
 * through the style object, which the page's CSP allows where a style attribute it would not).
 */
export function terminalLine(parent: Node, text: string): void {
  if (!text.includes('\x1b')) {
    parent.appendChild(document.createTextNode(text));
    return;
  }
  for (const span of sgrSpans(text)) {
    if (span.classes === '' && span.color === undefined) {
      parent.appendChild(document.createTextNode(span.text));
      continue;
    }
    const el = document.createElement('span');
    if (span.classes) el.className = span.classes;
    if (span.color) el.style.color = span.color;
    el.textContent = span.text;
    parent.appendChild(el);
  }
}

/** An inline SVG icon from path data the page itself holds (never from data it was sent). */
export function icon(name: keyof typeof ICONS, label?: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');
  }
  for (const d of ICONS[name]) {
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

const ICONS = {
  copy: ['M9 9h10v10H9z', 'M5 15V5h10'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  bell: ['M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z', 'M10 20.5a2 2 0 0 0 4 0'],
  bellOff: ['M6 16V11a6 6 0 0 1 9.5-4.9M18 11v5l1.5 2H8', 'M10 20.5a2 2 0 0 0 4 0', 'M4 4l16 16'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  plus: ['M12 5v14', 'M5 12h14'],
  branch: ['M7 4v12', 'M7 16a2 2 0 1 0 0 .01', 'M17 8a2 2 0 1 0 0-.01', 'M17 10c0 4-6 3-9.5 6'],
  folder: ['M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z'],
  external: ['M14 4h6v6', 'M20 4l-9 9', 'M18 14v5H5V6h5'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
  history: ['M4 12a8 8 0 1 0 2.3-5.6L4 8.7', 'M4 4v4.7h4.7', 'M12 8v4l3 2'],
  terminal: ['M4 5h16v14H4z', 'M7 9l3 3-3 3', 'M12 15h5'],
} as const;
