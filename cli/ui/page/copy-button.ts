// A button that copies a port's address or a worktree's path, and says so: a tick for a moment,
// and a toast (through `copied`) that names what was copied, or that the browser refused.
import { h, icon } from './dom.js';

/** A button that puts `text` on the clipboard, and says so. */
export function copyButton(text: string, what: string, actions: { copied(what: string): void }, testid: string): HTMLButtonElement {
  const button = h('button', {
    class: 'icon-button copy',
    testid,
    attrs: { type: 'button', title: `Copy ${what}`, 'aria-label': `Copy ${what}` },
    on: {
      click: () => {
        void navigator.clipboard.writeText(text).then(
          () => {
            button.replaceChildren(icon('check'));
            button.classList.add('done');
            setTimeout(() => {
              button.replaceChildren(icon('copy'));
              button.classList.remove('done');
            }, 1200);
            actions.copied(what);
          },
          () => actions.copied(''),
        );
      },
    },
  });
  button.appendChild(icon('copy'));
  return button;
}
