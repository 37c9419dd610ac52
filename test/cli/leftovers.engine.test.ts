// The compose project an environment whose record is lost leaves on a real Docker engine:
// `piko doctor` finds its containers, network and volume by compose's project label (and not the
// project's shared services), a create of the name refuses before making anything, and the
// commands it gives clear the way. Every compose project here is named after this process and
// removed at the end whatever happened.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { docker, removeProjects } from '../helpers/engine-resources.js';
import { cleanup, initProject, sandbox, type Sandbox } from '../helpers/fixtures.js';

const engine = process.env.PIKO_TEST_DOCKER ?? 'the global setup did not run';
const describeEngine = engine === 'ready' ? describe : describe.skip;
if (engine !== 'ready') console.warn(`SKIPPED: the real Docker engine tests (${engine})`);

/** Project names of this run: compose projects are `piko-<project>-<env>`. */
const RUN = `left${process.pid}`;

const FILES = {
  'docker-compose.yml': `services:
  web:
    image: piko-test/busybox
    init: true
    command: [sleep, "86400"]
    volumes: ["data:/data"]
volumes:
  data: {}
`,
};

function loseState(box: Sandbox): void {
  for (const file of readdirSync(box.home)) if (file.startsWith('state.db')) rmSync(join(box.home, file));
}

/** The commands the refusal's hint gives before what may stay. */
function hintCommands(stderr: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => line.includes('then run the command again:'));
  const end = lines.findIndex((line, i) => i > start && /^\s*(The branch|Its volumes)/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).map((line) => line.trim()).filter((line) => /^(git|rm|docker|tmux) /.test(line));
}

afterEach(cleanup);

afterAll(async () => {
  if (engine !== 'ready') return;
  await removeProjects(RUN);
});

describeEngine('leftovers on a real engine', () => {
  it('doctor lists the compose project of a lost environment, not the shared one; a create refuses, and its commands clear the way', async () => {
    const box = sandbox({ realDocker: true });
    const project = RUN;
    const repo = await initProject(box, FILES, project);
    expect((await box.piko(['create', 'feat', '--no-attach'], repo)).exitCode).toBe(0);
    const compose = `piko-${project}-feat`;
    // The project's shared services, which no environment owns.
    const shared = `piko-${project}-shared`;
    await docker('volume', 'create', '--label', `com.docker.compose.project=${shared}`, `${shared}_db`);

    loseState(box);
    expect((await box.piko(['init'], repo)).exitCode).toBe(0);
    const doctor = await box.piko(['doctor', '--json'], repo);
    const check = (JSON.parse(doctor.stdout) as { name: string; leftovers?: Record<string, unknown>[]; skipped?: string[] }[]).find((c) => c.name === 'leftovers')!;
    expect(check.skipped).toEqual([]);
    const found = check.leftovers!.filter((l) => l.kind === 'compose');
    expect(found).toEqual([
      expect.objectContaining({
        project,
        environment: 'feat',
        composeProject: compose,
        containers: [expect.stringMatching(new RegExp(`^${compose}[-_]web[-_]1$`))],
        // piko names the default network after the compose project.
        networks: [compose],
        volumes: [`${compose}_data`],
        what: `compose project ${compose} (1 container, 1 network, 1 volume)`,
      }),
    ]);
    const text = await box.piko(['doctor'], repo);
    expect(text.stdout).toContain(`  compose project ${compose} (1 container, 1 network, 1 volume)`);
    expect(text.stdout).toContain(`    docker volume rm ${compose}_data`);
    expect(text.stdout).not.toContain(shared);

    const label = ['--filter', `label=com.docker.compose.project=${compose}`];
    const containers = () => docker('ps', '--all', ...label, '--format', '{{.ID}} {{.State}} {{.CreatedAt}}');
    const before = await containers();
    const refused = await box.piko(['create', 'feat', '--no-attach'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`compose project ${compose} (1 container, 1 network, 1 volume)`);
    expect(refused.stderr).toContain(`Its volumes stay (a create of feat uses them again, as after \`destroy --keep-volumes\`)`);
    // Nothing was made or started: the container is the one the first create made, as it was.
    expect(before).toHaveLength(1);
    expect(await containers()).toEqual(before);

    const commands = hintCommands(refused.stderr);
    expect(commands.filter((c) => c.startsWith('docker '))).toEqual([
      expect.stringMatching(new RegExp(`^docker rm --force ${compose}[-_]web[-_]1$`)),
      `docker network rm ${compose}`,
    ]);
    for (const command of commands) await execa('sh', ['-c', command]);
    expect(await docker('ps', '--all', ...label, '--format', '{{.Names}}')).toEqual([]);
    // The volume stayed, as it said, and the new environment uses it.
    expect(await docker('volume', 'ls', ...label, '--format', '{{.Name}}')).toEqual([`${compose}_data`]);

    const again = await box.piko(['create', 'feat', '--no-attach'], repo);
    expect(again.exitCode).toBe(0);
    expect((await box.piko(['destroy', 'feat', '--force'], repo)).exitCode).toBe(0);
    expect(await docker('volume', 'ls', ...label, '--format', '{{.Name}}')).toEqual([]);
    await docker('volume', 'rm', `${shared}_db`);
  });
});
