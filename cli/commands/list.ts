// `piko list`: every environment, as a table or as JSON.
import { pikoHome } from '../../core/paths.js';
import { environmentInfo, State } from '../../core/state/state.js';
import { publishedPorts } from '../../core/environment/vars.js';

const COLUMNS = ['ID', 'NAME', 'PROJECT', 'MODE', 'STATUS', 'BRANCH', 'PORTS', 'PATH'] as const;

export function list(options: { json?: boolean }): void {
  const state = new State(pikoHome());
  try {
    const environments = state.listEnvironments().map(environmentInfo);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(environments, null, 2)}\n`);
      return;
    }
    if (environments.length === 0) {
      console.log('no environments yet: piko create <name>');
      return;
    }
    const rows = environments.map((e) => [
      String(e.id),
      e.name,
      e.project,
      e.mode,
      e.status,
      e.branch,
      e.ports.map((p) => `${p.service}:${publishedPorts(p)}`).join(' ') || '-',
      e.path,
    ]);
    const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: readonly string[]): string =>
      cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
    console.log([line(COLUMNS), ...rows.map(line)].join('\n'));
  } finally {
    state.close();
  }
}
