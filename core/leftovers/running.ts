// Leftover compose projects (by the label compose puts on what it makes) and tmux sessions (by
// piko's session names), on the engine and the tmux servers piko uses.
import { environmentNameProblem } from '../environment/names.js';
import { composeProjectName } from '../paths.js';
import { tmux, tmuxArgs } from '../system/tmux.js';
import { command, plural, type Leftover, type LeftoverProject } from './report.js';
import { lines, query } from './query.js';

/** The label compose gives every container, network and volume it makes (see stages/docker/compose-cli.ts). */
const PROJECT_LABEL = 'com.docker.compose.project';

interface ComposeFound {
  containers: string[];
  networks: string[];
  volumes: string[];
}

/**
 * The compose projects the engine has something of, by their label (only `exact`, when given);
 * or why docker could not say. `containersOnly`: what a create runs into (networks are made
 * again, volumes may be kept on purpose).
 */
export async function composeProjects(exact?: string, containersOnly = false): Promise<Map<string, ComposeFound> | string> {
  const filter = ['--filter', `label=${PROJECT_LABEL}${exact === undefined ? '' : `=${exact}`}`];
  const format = (name: string) => ['--format', `{{.${name}}}\t{{.Label "${PROJECT_LABEL}"}}`];
  const answers = await Promise.all([
    query('docker', ['ps', '--all', ...filter, ...format('Names')]),
    ...(containersOnly ? [] : [query('docker', ['network', 'ls', ...filter, ...format('Name')]), query('docker', ['volume', 'ls', ...filter, ...format('Name')])]),
  ]);
  const failed = answers.find((ran) => !ran.ok);
  if (failed) return failed.why;
  const found = new Map<string, ComposeFound>();
  const keys = ['containers', 'networks', 'volumes'] as const;
  answers.forEach((ran, i) => {
    for (const line of lines(ran.stdout)) {
      const [name = '', label = ''] = line.split('\t');
      const project = exact ?? label;
      if (project === '' || name === '') continue;
      if (!found.has(project)) found.set(project, { containers: [], networks: [], volumes: [] });
      found.get(project)![keys[i]!].push(name);
    }
  });
  return found;
}

export function composeLeftover(project: LeftoverProject, env: string, composeProject: string, found: ComposeFound): Leftover {
  const { containers, networks, volumes } = found;
  const counts = [
    containers.length ? plural(containers.length, 'container') : '',
    networks.length ? plural(networks.length, 'network') : '',
    volumes.length ? plural(volumes.length, 'volume') : '',
  ].filter(Boolean);
  // The engine's own commands: they work with Compose v1 and v2 alike, and without the compose file (which v1's `down` needs).
  const remove = [
    ...(containers.length ? [command('docker', 'rm', '--force', ...containers)] : []),
    ...(networks.length ? [command('docker', 'network', 'rm', ...networks)] : []),
  ];
  return {
    kind: 'compose',
    project: project.name,
    root: project.root,
    environment: env,
    composeProject,
    containers,
    networks,
    volumes,
    what: `compose project ${composeProject} (${counts.join(', ')})`,
    remove,
    ...(volumes.length
      ? {
          keep: {
            note: `its volumes stay (a create of ${env} uses them again, as after \`destroy --keep-volumes\`); to delete them and their data too:`,
            remove: [command('docker', 'volume', 'rm', ...volumes)],
          },
        }
      : {}),
  };
}

/** The project and environment a compose project name is of, among `projects`: the longest project name that fits wins. */
export function composeOwner(projects: readonly LeftoverProject[], name: string): { project: LeftoverProject; env: string } | undefined {
  const owners = projects
    .map((project) => ({ project, prefix: composeProjectName(project.name, '') }))
    .filter(({ prefix }) => name.startsWith(prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const owner = owners[0];
  if (!owner) return undefined;
  const env = name.slice(owner.prefix.length);
  // `piko-<project>-shared` holds the project's shared services, which no environment owns.
  if (env === 'shared' || environmentNameProblem(env) !== undefined) return undefined;
  return { project: owner.project, env };
}

/** The sessions on the tmux servers piko uses: its own (PIKO_TMUX_SOCKET's, or the default) and every one a row recorded. */
export async function tmuxSessions(sockets: readonly (string | undefined)[]): Promise<{ socket: string; session: string }[] | string> {
  const answers = await Promise.all(sockets.map((socket) => tmux(tmuxArgs(socket, 'list-sessions', '-F', '#{socket_path}\t#{session_name}'), { env: process.env })));
  if (answers.some((answer) => answer.code === 127)) return 'not installed';
  const seen = new Set<string>();
  // A server that is not running has no sessions: list-sessions fails, and that is all it means.
  return answers.flatMap((answer) =>
    answer.code !== 0
      ? []
      : lines(answer.stdout).flatMap((line) => {
          const [socket = '', session = ''] = line.split('\t');
          const key = `${socket}\t${session}`;
          if (seen.has(key)) return [];
          seen.add(key);
          return [{ socket, session }];
        }),
  );
}
