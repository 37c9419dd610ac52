// `piko init`: register the repository you stand in as a project named after its folder, and
// approve what its config runs, having shown it.
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PIKO_COMPOSE_FILE } from '../../core/paths.js';
import { PikoError } from '../../core/errors.js';
import { git } from '../../core/system/git.js';
import { openState } from '../open-state.js';
import { approveProject } from './trust.js';
import { noteText } from '../terminal/say.js';

/** Adds `line` to the file unless a line equal to one of `same` is already there. */
function ensureLine(file: string, line: string, same: string[]): boolean {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (text.split(/\r?\n/).some((l) => same.includes(l.trim()))) return false;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
  return true;
}

export async function init(cwd: string): Promise<void> {
  const common = await git(cwd, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (!common.ok) throw new PikoError('PIKO_ERR_NOT_GIT_REPO', `${cwd} is not inside a git repository`);
  const gitDir = common.stdout.trim();
  if (basename(gitDir) !== '.git') {
    throw new PikoError('PIKO_ERR_NOT_GIT_REPO', `${gitDir} is a bare repository: piko needs a checkout`);
  }
  // Standing in one of its worktrees registers the main repository.
  const root = realpathSync(dirname(gitDir));
  const { home, state } = openState();
  try {
    const existing = state.projectByRoot(root);
    const project = existing ?? state.addProject(basename(root), root);
    if (ensureLine(join(root, '.gitignore'), '.piko/', ['.piko', '.piko/', '/.piko', '/.piko/'])) {
      console.log('added .piko/ to .gitignore');
    }
    ensureLine(join(gitDir, 'info', 'exclude'), PIKO_COMPOSE_FILE, [PIKO_COMPOSE_FILE, `/${PIKO_COMPOSE_FILE}`]);
    console.log(
      existing
        ? `project ${project.name} is already registered (${root})`
        : `✓ registered project ${project.name} (${root}); next: piko create <name>`,
    );
    try {
      await approveProject(home, project);
    } catch (err) {
      // Registered all the same: the config is the thing to fix, and `piko trust` approves it then.
      if (!(err instanceof PikoError)) throw err;
      process.stderr.write(noteText(`warning: nothing approved yet: ${err.message}; fix it, then run \`piko trust\``));
    }
  } finally {
    state.close();
  }
}
