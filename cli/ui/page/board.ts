// The projects and their environments: a section per project, a card per environment. A card
// is made again only when its environment changed, so a busy board costs the DOM what changed.
import type { OperationKind } from '../../../core/protocol/messages.js';
import { ago } from '../format.js';
import type { Board, Env, ProjectInfo } from '../model.js';
import { card } from './card.js';
import { fill, h, icon } from './dom.js';

export interface BoardActions {
  create(project: ProjectInfo): void;
  run(env: Env, action: Exclude<OperationKind, 'create' | 'destroy'>): void;
  destroy(env: Env): void;
  /** Opens the environment's last operation (following it while it runs). */
  watch(env: Env): void;
  cancel(env: Env): void;
  history(env: Env): void;
  copied(what: string): void;
}

/** Renders boards into one container, keeping the cards (and sections) that did not change. */
export class BoardView {
  private readonly cards = new Map<string, { key: string; el: HTMLElement }>();
  private readonly sections = new Map<string, { key: string; el: HTMLElement; grid: HTMLElement }>();

  constructor(
    private readonly root: HTMLElement,
    private readonly actions: BoardActions,
  ) {}

  render(board: Board, loaded: boolean): void {
    if (!loaded) {
      fill(this.root, h('p', { class: 'empty muted', testid: 'loading' }, 'Loading…'));
      this.sections.clear();
      return;
    }
    if (board.projects.length === 0) {
      this.sections.clear();
      fill(
        this.root,
        h(
          'div',
          { class: 'empty', testid: 'no-projects' },
          h('h2', null, 'No projects yet'),
          h('p', null, 'Run ', h('code', null, 'piko init'), ' in a git repository to add it here.'),
        ),
      );
      return;
    }
    const seen = new Set<string>();
    const order: HTMLElement[] = [];
    for (const project of board.projects) {
      seen.add(project.name);
      order.push(this.section(project));
    }
    for (const name of [...this.sections.keys()]) if (!seen.has(name)) this.sections.delete(name);
    // Only moved when out of place: moving a node that has focus would lose it.
    if (order.some((el, i) => this.root.children[i] !== el) || this.root.children.length !== order.length) this.root.replaceChildren(...order);
  }

  private section(project: ProjectInfo): HTMLElement {
    let section = this.sections.get(project.name);
    const key = `${project.name}\n${project.root}`;
    if (!section || section.key !== key) {
      const grid = h('div', { class: 'cards' });
      const el = h(
        'section',
        { class: 'project', testid: 'project', attrs: { 'data-project': project.name } },
        h(
          'header',
          { class: 'project-head' },
          h('h2', { testid: 'project-name' }, project.name),
          project.root ? h('span', { class: 'root mono muted', attrs: { title: project.root } }, project.root) : null,
          h('span', { class: 'spacer' }),
          h(
            'button',
            { class: 'button primary small', testid: 'create', attrs: { type: 'button' }, on: { click: () => this.actions.create(project) } },
            icon('plus'),
            'New environment',
          ),
        ),
        grid,
      );
      section = { key, el, grid };
      this.sections.set(project.name, section);
    }
    const cards: HTMLElement[] = [];
    for (const env of project.environments) {
      const id = `${project.name}/${env.name}`;
      const key = JSON.stringify(env);
      let entry = this.cards.get(id);
      if (!entry || entry.key !== key) {
        entry = { key, el: card(env, this.actions) };
        this.cards.set(id, entry);
      }
      cards.push(entry.el);
    }
    for (const id of [...this.cards.keys()]) {
      if (id.startsWith(`${project.name}/`) && !project.environments.some((e) => `${project.name}/${e.name}` === id)) this.cards.delete(id);
    }
    const grid = section.grid;
    if (cards.length === 0) {
      fill(grid, h('p', { class: 'empty-project muted', testid: 'no-environments' }, 'No environments. ', 'Make one with New environment, or ', h('code', null, 'piko create <name>'), '.'));
    } else if (cards.some((el, i) => grid.children[i] !== el) || grid.children.length !== cards.length) {
      grid.replaceChildren(...cards);
    }
    return section.el;
  }

  /** Brings the `… ago` times up to date. */
  tick(): void {
    for (const el of this.root.querySelectorAll<HTMLElement>('[data-ago]')) el.textContent = ago(el.dataset.ago);
  }
}
