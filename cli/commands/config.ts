// `piko config [env] [--json]`: the configuration in force for an environment (or for the project
// you stand in, no environment applied), defaults filled in, each value with where it came from.
// `piko config schema`: the JSON Schema of the config file, for editors.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_SEARCH_PLACES, type LoadedConfig } from '../../core/config/config.js';
import { effectiveConfig, type EffectiveConfig, type Sourced } from '../../core/config/effective.js';
import { configJsonSchemaText } from '../../core/config/schema.js';
import { codeConfigApproved, digestOf, readableConfig, readApproval, trustLines } from '../../core/config/trust.js';
import { assertEnvironmentName, splitName } from '../../core/environment/names.js';
import { PikoError } from '../../core/errors.js';
import { meantProject, projectContaining, resolveEnvironment } from '../../core/state/resolve.js';
import type { EnvironmentRow, ProjectRow, State } from '../../core/state/state.js';
import { composeFiles, loadCompose } from '../../stages/docker/load.js';
import { openState } from '../open-state.js';
import { print } from '../terminal/print.js';

interface Target {
  project: ProjectRow;
  environment?: string;
  /** The environment's record, when it exists. */
  row?: EnvironmentRow;
  note?: string;
}

const notFound = (err: unknown): boolean => err instanceof PikoError && err.code === 'PIKO_ERR_ENV_NOT_FOUND';

/**
 * The environment named (or the one whose worktree you stand in), else, for a name that no
 * environment has yet, what a create of it would get in the project meant; without a name
 * outside any worktree, the project you stand in with no environment applied.
 */
async function target(state: State, name: string | undefined, project: string | undefined, cwd: string): Promise<Target> {
  if (project !== undefined) {
    if (name === undefined) return { project: state.requestProject(project) };
    if (splitName(name).project !== undefined) throw new PikoError('PIKO_ERR_USAGE', `${name} names its project, and --project another: say it once`);
    name = `${project}/${name}`;
  }
  let missing: unknown;
  try {
    const { project, environment } = await resolveEnvironment(state, name, cwd);
    return { project, environment: environment.name, row: environment };
  } catch (err) {
    if (!notFound(err)) throw err;
    missing = err;
  }
  if (name === undefined) return meantProject(state, undefined, cwd);
  const { project: named, environment } = splitName(name);
  // A bare name that lives in other projects while you stand in none: which one was meant is
  // the question resolveEnvironment asked, not a name to make up a project for.
  if (named === undefined && !projectContaining(state, cwd) && state.listEnvironments().some((e) => e.name === environment)) throw missing;
  assertEnvironmentName(environment);
  return { ...(await meantProject(state, named, cwd)), environment };
}

/** Whether what the config runs is approved, in a word, and what to do when it is not. */
function approvalOf(home: string, project: ProjectRow, loaded: LoadedConfig): { status: string; hint?: string } {
  let lines: string[];
  try {
    lines = trustLines(project.root, loaded);
  } catch (err) {
    return { status: 'unknown', hint: (err as Error).message };
  }
  if (lines.length === 0) return { status: 'not needed', hint: 'it runs nothing of its own' };
  const approved = readApproval(home, project.root);
  if (approved?.digest === digestOf(lines)) return { status: 'approved' };
  return { status: approved ? 'changed' : 'not approved', hint: `\`piko trust ${project.name}\` shows what it runs and approves it` };
}

/**
 * The compose files a create would read (from the worktree, or the repository before there is
 * one), as the `compose` value when the config names none, and their services.
 */
function composeOf(loaded: LoadedConfig, base: string, where: string): { found?: Sourced; problem?: string; services?: string[] } {
  let files: string[] | undefined;
  try {
    files = composeFiles(base, loaded.config.compose);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  if (files === undefined) return { found: { value: null, source: 'default', note: `no compose file in ${where}: a simple environment, without containers` }, services: [] };
  let services: string[] | undefined;
  try {
    services = Object.keys(loadCompose(base, files).doc.services ?? {});
  } catch {
    // A compose file that does not load says so at create; here it only leaves the shells unlisted.
  }
  const listed = services && { services };
  if (loaded.config.compose !== undefined) return { ...listed };
  const names = files.map((file) => relative(base, file));
  return { found: { value: names.length === 1 ? names[0] : names, source: 'default', note: `found in ${where}` }, ...listed };
}

/** A value as one line: plain text as it is, anything else as JSON. */
function shown({ value }: Sourced): string {
  if (value === null) return '-';
  // A script of several lines, or an empty one, would not read as itself: quoted, it does.
  if (typeof value === 'string') return value === '' || /[\n\r\t]/.test(value) ? JSON.stringify(value) : value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return JSON.stringify(value);
}

function render(header: [string, string][], report: EffectiveConfig): string {
  const pad = (rows: [string, string][]) => Math.max(...rows.map(([key]) => key.length));
  const lines = header.map(([key, value]) => `  ${key.padEnd(pad(header))}  ${value}`);
  const rows = Object.entries(report.values).map(([key, entry]): [string, string, string] => [key, shown(entry), entry.note ? `${entry.source} (${entry.note})` : entry.source]);
  const keys = Math.max(...rows.map(([key]) => key.length));
  // Long values (a worktree path, a script) would push every source far right: they go past the column.
  const values = Math.min(40, Math.max(...rows.map(([, value]) => value.length)));
  lines.push('');
  for (const [key, value, source] of rows) lines.push(`  ${key.padEnd(keys)}  ${value.padEnd(values)}  ${source}`);
  return `${lines.join('\n')}\n`;
}

export async function config(name: string | undefined, options: { json?: boolean; project?: string }): Promise<void> {
  const { home, state } = openState();
  let meant: Target;
  try {
    meant = await target(state, name, options.project, process.cwd());
  } finally {
    state.close();
  }
  const { project, environment, row, note } = meant;
  if (note) process.stderr.write(`[piko] ${note}\n`);
  if (!codeConfigApproved(home, project.root)) {
    const file = CONFIG_SEARCH_PLACES.find((place) => existsSync(join(project.root, place)));
    throw new PikoError(
      'PIKO_ERR_UNTRUSTED',
      `project ${project.name} (${project.root}): its config ${file} is code, which runs when it is read, and it is not approved as it is now: not read`,
      { hint: `Read ${file}, then approve it with \`piko trust ${project.name}\`: piko config shows it from then on.` },
    );
  }
  const loaded = await readableConfig(home, project.root);
  // An environment's own worktree once it exists; before that, the repository it would be checked out from.
  const inWorktree = row !== undefined && existsSync(row.path);
  const compose = composeOf(loaded, inWorktree ? row.path : project.root, inWorktree ? `the worktree ${row.path}` : `the repository root ${project.root}`);
  const report = effectiveConfig(loaded, { root: project.root, project: project.name, environment, worktree: row?.path, services: compose.services });
  if (compose.found) report.values.compose = compose.found;
  if (compose.problem) report.values.compose = { ...report.values.compose!, note: compose.problem };
  const approval = approvalOf(home, project, loaded);

  if (options.json) {
    const json = {
      project: project.name,
      root: project.root,
      environment: environment ?? null,
      exists: environment === undefined ? null : row !== undefined,
      file: loaded.file ?? null,
      approval: approval.status,
      environments: report.environments,
      matched: report.matched ?? null,
      values: report.values,
    };
    print(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  const title =
    environment === undefined
      ? `${project.name} (no environment: the project's settings, no environments: glob applied)`
      : `${project.name}/${environment}${row ? '' : ' (not created yet: what a create of it would get)'}`;
  const header: [string, string][] = [['config', loaded.file ?? `none in ${project.root}: every value is a default`]];
  header.push(['approval', approval.hint ? `${approval.status}: ${approval.hint}` : approval.status]);
  const globs = Object.keys(loaded.config.environments ?? {});
  if (environment === undefined && globs.length > 0) header.push(['environments', `not applied without an environment: ${globs.map((g) => JSON.stringify(g)).join(', ')}`]);
  if (environment !== undefined && report.environments.length > 0) {
    const matching = report.matched === undefined ? 'no glob matches' : `${JSON.stringify(report.matched)} matches ${environment}`;
    const others = report.environments.filter((e) => e.glob !== report.matched).map((e) => `${JSON.stringify(e.glob)}${e.matches ? ' matches too, but the first match applies' : ' does not'}`);
    header.push(['environments', [matching, ...others].join('; ')]);
  }
  print(`${title}\n${render(header, report)}`);
}

/** The JSON Schema, made from the schema piko validates with: the file the package ships says the same. */
export function schema(): void {
  print(configJsonSchemaText());
}
