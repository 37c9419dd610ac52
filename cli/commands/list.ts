// `piko list`: every environment, as a table or as JSON.
import { pikoHome } from '../../core/paths.js';
import { environmentInfo, State } from '../../core/state/state.js';
import { publishedPorts } from '../../core/environment/vars.js';
import { print, stdoutColumns } from '../terminal/print.js';

const COLUMNS = ['ID', 'NAME', 'PROJECT', 'MODE', 'STATUS', 'BRANCH', 'PORTS', 'PATH'] as const;

/**
 * How the table gives way when it is wider than the terminal, step by step, each column down to
 * a least width: the path first (keeping its end), then the branch (most often the name again),
 * the ports and the project, the name, and the path again.
 */
const SHRINK: { column: number; least: number }[] = [
  { column: 7, least: 24 },
  { column: 5, least: 8 },
  { column: 6, least: 8 },
  { column: 2, least: 8 },
  { column: 1, least: 12 },
  { column: 7, least: 10 },
];

/** Column widths that fit `columns` characters (two spaces between columns), when that is known. */
function fit(widths: number[], columns: number | undefined): number[] {
  if (!columns) return widths;
  const fitted = [...widths];
  let over = fitted.reduce((sum, w) => sum + w, 0) + 2 * (fitted.length - 1) - columns;
  for (const { column, least } of SHRINK) {
    if (over <= 0) break;
    const give = Math.min(over, Math.max(0, fitted[column]! - least));
    fitted[column]! -= give;
    over -= give;
  }
  return fitted;
}

/** `text` in `width` characters: a path keeps its end, anything else its start, with `…` where it was cut. */
function cut(text: string, width: number, column: number): string {
  if (text.length <= width) return text;
  return column === 7 ? `…${text.slice(text.length - width + 1)}` : `${text.slice(0, width - 1)}…`;
}

export async function list(options: { json?: boolean }): Promise<void> {
  const state = new State(pikoHome());
  try {
    const found = state.listEnvironments();
    if (found.length === 0) {
      print(options.json ? '[]\n' : 'no environments yet: piko create <name>\n');
      return;
    }
    // Loaded only when there is something to mark: git runs for it.
    const { environmentMarks } = await import('../../core/prune/marks.js');
    const marks = await environmentMarks(state, found);
    const environments = found.map((row) => ({ ...environmentInfo(row), marks: marks.get(`${row.project}/${row.name}`) ?? [] }));
    if (options.json) {
      print(`${JSON.stringify(environments, null, 2)}\n`);
      return;
    }
    const rows = environments.map((e) => [
      String(e.id),
      e.name,
      e.project,
      e.mode,
      [e.status, ...e.marks].join(', '),
      e.branch,
      e.ports.map((p) => `${p.service}:${publishedPorts(p)}`).join(' ') || '-',
      e.path,
    ]);
    const widths = fit(
      COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length))),
      stdoutColumns(),
    );
    const line = (cells: readonly string[]): string =>
      cells.map((cell, i) => (i === cells.length - 1 ? cut(cell, widths[i]!, i) : cut(cell, widths[i]!, i).padEnd(widths[i]!))).join('  ');
    print(`${[line(COLUMNS), ...rows.map(line)].join('\n')}\n`);
  } finally {
    state.close();
  }
}
