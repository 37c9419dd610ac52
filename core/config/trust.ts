// Trust: what a repository's config makes piko run (scripts, stages, tmux shells, plugin modules,
// a config that is itself code) runs only once its user approved it. The approval is a list of
// those things, one line each, kept in PIKO_HOME (never in the repository, which a `git pull`
// changes); a config whose list differs from the approved one is refused, with the difference,
// until `piko trust` (or `--yes`) approves the new list.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { PikoError } from '../errors.js';
import { CONFIG_SEARCH_PLACES, configName, loadConfig, type LoadedConfig } from './config.js';

export interface Approval {
  root: string;
  digest: string;
  approvedAt: string;
  lines: string[];
}

/** What the user approves: either whatever the config runs now (`true`), or exactly the list they were shown (its digest). */
export type Approve = true | string;

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const fileHash = (path: string): string => `sha256:${sha(readFileSync(path)).slice(0, 16)}`;
export const digestOf = (lines: string[]): string => sha(lines.join('\n')).slice(0, 32);

const approvalPath = (home: string, root: string): string => join(home, 'trust', `${sha(root).slice(0, 16)}.json`);

/** A config file that is code (JS/TS): reading it runs it, so it is approved by its content before it is read. */
export function configCodeLine(root: string): string | undefined {
  for (const place of CONFIG_SEARCH_PLACES) {
    const path = join(root, place);
    if (!existsSync(path)) continue;
    return /\.(c|m)?[jt]s$/.test(place) ? `config ${place} ${fileHash(path)} (code: it runs when read)` : undefined;
  }
  return undefined;
}

/**
 * A plugin module's path, which must stay inside the repository (after symlinks): a plugin runs
 * inside the long-lived server, so it must be something the repository's user can read and approve.
 */
export function pluginPath(root: string, file: string, index: number, path: string): string {
  const full = resolve(root, path);
  const invalid = (why: string) => new PikoError('PIKO_ERR_CONFIG_INVALID', `${file}: plugins[${index}]: ${why}`);
  if (!existsSync(full)) throw invalid(`no plugin module at ${full}`);
  const real = realpathSync(full);
  const home = realpathSync(root);
  if (!real.startsWith(home + sep)) throw invalid(`${path} is outside the repository (${real}): a plugin module must live inside ${home}`);
  return real;
}

/** Everything the config makes piko run (and where it puts worktrees), one line each, in a stable order. */
export function trustLines(root: string, loaded: LoadedConfig): string[] {
  const { config } = loaded;
  const file = configName(loaded);
  const lines: string[] = [];
  const code = configCodeLine(root);
  if (code) lines.push(code);
  for (const [key, command] of Object.entries(config.scripts ?? {})) if (command) lines.push(`script ${key}: ${command}`);
  for (const stage of config.stages ?? []) {
    const env = Object.entries(stage.env ?? {}).map(([k, v]) => `${k}=${v}`);
    lines.push(`stage ${stage.name}: ${stage.run}${env.length ? ` (env ${env.join(' ')})` : ''}`);
  }
  for (const [service, shell] of Object.entries(config.shells ?? {})) lines.push(`shell ${service}: ${shell}`);
  for (const [service, shared] of Object.entries(config.shared ?? {})) if (shared?.seed) lines.push(`seed ${service}: ${shared.seed}`);
  // Not run, but where piko writes: a worktree outside the repository is approved like a command.
  if (config.worktrees !== undefined) lines.push(`worktrees at ${config.worktrees}`);
  for (const [i, path] of (config.plugins ?? []).entries()) {
    const real = pluginPath(root, file, i, path);
    lines.push(`plugin ${relative(realpathSync(root), real)} ${fileHash(real)}`);
  }
  return lines;
}

export function readApproval(home: string, root: string): Approval | undefined {
  try {
    const approval = JSON.parse(readFileSync(approvalPath(home, root), 'utf8')) as Approval;
    return approval.root === root && Array.isArray(approval.lines) ? approval : undefined;
  } catch {
    return undefined;
  }
}

/** Records `lines` as approved for the repository at `root`. */
export function recordApproval(home: string, root: string, lines: string[]): Approval {
  const approval: Approval = { root, digest: digestOf(lines), approvedAt: new Date().toISOString(), lines };
  const path = approvalPath(home, root);
  mkdirSync(join(home, 'trust'), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(approval, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return approval;
}

/** What changed from `approved` to `now`: `- ` lines no longer run, `+ ` lines new. */
export function trustDiff(approved: string[], now: string[]): string[] {
  return [...approved.filter((l) => !now.includes(l)).map((l) => `- ${l}`), ...now.filter((l) => !approved.includes(l)).map((l) => `+ ${l}`)];
}

/**
 * The project's config for what only reads it (which server, which compose files), never
 * running code that is not approved: a config that is code and not approved reads as empty.
 */
export async function readableConfig(home: string, root: string): Promise<LoadedConfig> {
  return codeConfigApproved(home, root) ? loadConfig(root) : { config: {}, file: undefined };
}

/** Whether reading the project's config runs no code that is not approved (a config that is not code runs none). */
export function codeConfigApproved(home: string, root: string): boolean {
  const code = configCodeLine(root);
  return !code || (readApproval(home, root)?.lines.includes(code) ?? false);
}

/** The refusal of a config whose list differs from the approved one, with the difference. */
export function untrusted(project: string, root: string, diff: string[], approval: string): PikoError {
  return new PikoError(
    'PIKO_ERR_UNTRUSTED',
    `project ${project} (${root}): its config runs what you have not approved:\n${diff.map((l) => `  ${l}`).join('\n')}\n` +
      `approve it with \`piko trust ${project}\` (or run the command again with --yes)`,
    // The digest of what was shown: sending it back approves exactly that.
    { approval, hint: `Read what the config runs, then approve it: \`piko trust ${project}\` (or the same command with --yes).` },
  );
}

/**
 * The project's config, once what it runs is approved: a code config is checked by its content
 * before it is read, everything else once it is. `approve` approves (and records) what runs
 * now; otherwise a difference from the approval is a PIKO_ERR_UNTRUSTED error, and nothing of the
 * config has run. A config that runs nothing needs no approval.
 */
export async function trustedConfig(
  home: string,
  project: { name: string; root: string },
  options: { read?: (root: string) => Promise<LoadedConfig>; approve?: Approve | undefined } = {},
): Promise<LoadedConfig> {
  const { root } = project;
  const approved = readApproval(home, root);
  const approvedLines = approved?.lines ?? [];
  const code = configCodeLine(root);
  let codeApproved = false;
  if (code && !approvedLines.includes(code)) {
    // What a code config runs is not known without running it: its content is what is approved.
    const shown = [code, ...approvedLines.filter((l) => !l.startsWith('config '))];
    if (options.approve !== true && options.approve !== digestOf(shown)) {
      throw untrusted(project.name, root, trustDiff(approvedLines, shown), digestOf(shown));
    }
    codeApproved = true;
  }
  const loaded = await (options.read ?? loadConfig)(root);
  const lines = trustLines(root, loaded);
  const digest = digestOf(lines);
  if (approved?.digest === digest || lines.length === 0) return loaded;
  if (options.approve === true || options.approve === digest || codeApproved) {
    recordApproval(home, root, lines);
    return loaded;
  }
  throw untrusted(project.name, root, trustDiff(approvedLines, lines), digest);
}
