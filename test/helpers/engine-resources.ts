// What the real Docker engine holds, for the *.engine tests: the docker CLI's lines, and what a
// compose project left behind, found by the label compose puts on everything it makes.
import { execa } from 'execa';

/** `docker <args>`'s output, a line each. */
export async function docker(...args: string[]): Promise<string[]> {
  return (await execa('docker', args)).stdout.split('\n').filter(Boolean);
}

/** A compose project's containers (running ones only, with `running`), networks and volumes, by name. */
export async function projectResources(project: string, running = false): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const label = ['--filter', `label=com.docker.compose.project=${project}`];
  return {
    containers: await docker('ps', ...(running ? [] : ['--all']), ...label, '--format', '{{.Names}}'),
    networks: await docker('network', 'ls', ...label, '--format', '{{.Name}}'),
    volumes: await docker('volume', 'ls', ...label, '--format', '{{.Name}}'),
  };
}

/** What `projectResources` finds of a project that is gone. */
export const NOTHING = { containers: [], networks: [], volumes: [] };

/**
 * Removes whatever compose projects named `piko-<prefix>…` left on the engine (a failed test's
 * containers with their anonymous volumes, networks, named volumes): a test file's run, after it.
 */
export async function removeProjects(prefix: string): Promise<void> {
  const mine = (lines: string[]) => lines.filter((line) => line.split('\t')[0]!.startsWith(`piko-${prefix}`)).map((line) => line.split('\t')[1]!);
  const containers = mine(await docker('ps', '--all', '--format', '{{.Label "com.docker.compose.project"}}\t{{.ID}}'));
  if (containers.length > 0) await docker('rm', '--force', '--volumes', ...containers);
  const networks = mine(await docker('network', 'ls', '--format', '{{.Label "com.docker.compose.project"}}\t{{.ID}}'));
  if (networks.length > 0) await docker('network', 'rm', ...networks);
  const volumes = mine(await docker('volume', 'ls', '--format', '{{.Label "com.docker.compose.project"}}\t{{.Name}}'));
  if (volumes.length > 0) await docker('volume', 'rm', '--force', ...volumes);
}
