// The rest of an environment's life: tmux, up/down/restart, status, vars, exec, shell, run,
// doctor, projects, and how names are found. tmux runs for real on a private socket.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, eventually, gates, initProject, pathWithoutDocker, PIKO_BIN, printedPort, sandbox, type Sandbox, tempDir, waitForOutput, writtenPorts } from '../helpers/fixtures.js';

afterEach(cleanup);

/** The sandbox's own tmux server (`tmux -L <socket>`), which piko is told to use. */
const tmuxSocket = (box: Sandbox) => ({ PIKO_TMUX_SOCKET: box.socket });

const tmux = (socket: string, ...args: string[]) => execa('tmux', ['-L', socket, ...args], { reject: false });

const COMPOSE = 'services:\n  web:\n    image: nginx\n    ports: ["80"]\n  worker:\n    image: busybox\n';

describe('tmux', () => {
  it('makes a session with a shell window (with the variables), one per service and a logs window; destroy removes it', async () => {
    const box = sandbox();
    const env = tmuxSocket(box);
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE, '.piko.yml': 'shells: {web: bash -l}\n' });
    const created = await box.piko(['create', 'tmuxed'], repo, env);
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toContain('[tmux] tmux session piko/app/tmuxed: shell, web, worker, logs');
    const session = '=piko/app/tmuxed';
    const windows = (await tmux(env.PIKO_TMUX_SOCKET, 'list-windows', '-t', session, '-F', '#{window_name}')).stdout.split('\n');
    // Service windows run `docker compose exec`, which the stand-in answers and ends: the windows stay, saying so.
    expect(windows).toEqual(['shell', 'web', 'worker', 'logs']);
    await eventually('the web window to say its shell ended', async () =>
      /\[piko\] the web shell ended with status 0; this window stays/.test((await tmux(env.PIKO_TMUX_SOCKET, 'capture-pane', '-p', '-t', `${session}:web`)).stdout),
    );
    const shellEnv = (await tmux(env.PIKO_TMUX_SOCKET, 'show-environment', '-t', session, 'PIKO_ENV_NAME')).stdout;
    expect(shellEnv).toBe('PIKO_ENV_NAME=tmuxed');
    // piko's create started this tmux server: its global environment (what any later session gets) has none of them.
    const global = (await tmux(env.PIKO_TMUX_SOCKET, 'show-environment', '-g')).stdout;
    expect(global).not.toMatch(/^PIKO_/m);
    const path = (await tmux(env.PIKO_TMUX_SOCKET, 'display-message', '-p', '-t', `${session}:shell`, '#{pane_current_path}')).stdout;
    expect(path).toBe(join(repo, '.piko', 'worktrees', 'tmuxed'));
    // Each service window ran its shell in its container (the windows start on their own, after the create).
    const execs = () => box.docker.calls().filter((c) => c.args.includes('exec')).map((c) => c.args.slice(c.args.indexOf('exec') + 1));
    const ran = (args: string[]) => execs().some((e) => e.join(' ') === args.join(' '));
    await eventually('the service windows to run docker compose exec', () => ran(['web', 'bash', '-l']) && ran(['worker', 'sh']));
    await eventually('the logs window to run docker compose logs -f', () => box.docker.calls().some((c) => c.args.join(' ').endsWith('logs -f')));

    expect((await box.piko(['destroy', 'tmuxed'], repo, env)).exitCode).toBe(0);
    expect((await tmux(env.PIKO_TMUX_SOCKET, 'has-session', '-t', session)).exitCode).not.toBe(0);
  });

  it('without tmux installed the create goes on, with a note', async () => {
    const box = sandbox();
    const repo = await initProject(box, {});
    const result = await box.piko(['create', 'notmux'], repo, { PATH: pathWithoutDocker() });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('[tmux] tmux is not installed, so there is no session');
  });

  it('piko attach attaches a terminal to the session', async () => {
    const box = sandbox();
    const env = tmuxSocket(box);
    const repo = await initProject(box, {});
    // The session's shell window runs this "shell", which shows its variables and, once the
    // test has seen them on the attached terminal, leaves, ending the session.
    const gate = gates();
    const shell = join(tempDir(), 'show-shell');
    writeFileSync(shell, `#!/bin/sh\necho "shell of $PIKO_ENV_NAME"\n${gate.wait('$PIKO_ENV_NAME')}\n`, { mode: 0o755 });
    await box.piko(['create', 'attachable', '--no-attach'], repo, { ...env, SHELL: shell });
    const { NO_COLOR: _, ...rest } = box.env as Record<string, string>;
    const attaching = execa('script', ['-qfec', `node ${PIKO_BIN} attach app/attachable`, '/dev/null'], {
      cwd: repo,
      env: { ...rest, ...env, TERM: 'xterm' },
      extendEnv: false,
      reject: false,
    });
    await waitForOutput(attaching.stdout!, /shell of attachable/);
    gate.open('attachable');
    const attached = await attaching;
    expect(attached.exitCode).toBe(0);
    const missing = await box.piko(['attach', 'app/attachable'], repo, env);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('there is no tmux session piko/app/attachable');
  });
  it('finds the session where it was made: attach and destroy from another tmux context', async () => {
    const box = sandbox();
    const repo = await initProject(box, {});
    const gate = gates();
    const shell = join(tempDir(), 'show-shell');
    writeFileSync(shell, `#!/bin/sh\necho "shell of $PIKO_ENV_NAME"\n${gate.wait()}\n`, { mode: 0o755 });
    // Same PIKO_TMUX_SOCKET name, but each TMUX_TMPDIR makes it another tmux server.
    const [made, other, third] = [tempDir('piko-tmux-'), tempDir('piko-tmux-'), tempDir('piko-tmux-')];
    const socket = join(made, `tmux-${process.getuid!()}`, box.socket);
    try {
      expect((await box.piko(['create', 'elsewhere', '--no-attach'], repo, { TMUX_TMPDIR: made, SHELL: shell })).exitCode).toBe(0);
      expect((await execa('tmux', ['-S', socket, 'has-session', '-t', '=piko/app/elsewhere'], { reject: false })).exitCode).toBe(0);
      const { NO_COLOR: _, ...rest } = box.env;
      const attaching = execa('script', ['-qfec', `node ${PIKO_BIN} attach app/elsewhere`, '/dev/null'], {
        cwd: repo,
        env: { ...rest, TMUX_TMPDIR: other, TERM: 'xterm' },
        extendEnv: false,
        reject: false,
      });
      await waitForOutput(attaching.stdout!, /shell of elsewhere/);
      const destroyed = await box.piko(['destroy', 'elsewhere'], repo, { TMUX_TMPDIR: third });
      expect(destroyed.exitCode).toBe(0);
      expect(destroyed.stdout).toContain('[tmux] closed tmux session piko/app/elsewhere');
      // The attached terminal saw its session go.
      await attaching;
      expect((await execa('tmux', ['-S', socket, 'has-session', '-t', '=piko/app/elsewhere'], { reject: false })).exitCode).not.toBe(0);
    } finally {
      gate.open();
      await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
    }
  });
});

describe('up, down, restart', () => {
  it('run as streamed operations and move the status', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE });
    await box.piko(['create', 'cycled'], repo);
    const worktree = join(repo, '.piko', 'worktrees', 'cycled');
    const status = async () => JSON.parse((await box.piko(['list', '--json'], repo)).stdout)[0].status;
    // The compose calls piko made (the tmux windows' `exec` and `logs` come and go on their own).
    const composeCalls = () => box.docker.calls().filter((c) => c.args[0] === 'compose' && !c.args.includes('exec') && !c.args.includes('logs'));

    const down = await box.piko(['down'], worktree);
    expect(down.exitCode).toBe(0);
    expect(down.stdout).toContain('[docker]  Container piko-app-cycled-web-1 Removed');
    expect(down.stdout).toMatch(/✓ cycled stopped \(docker, stopped\) in/);
    expect(composeCalls().at(-1)!.args).toEqual(['compose', '-p', 'piko-app-cycled', '-f', 'docker-compose.piko.yml', 'down']);
    expect(await status()).toBe('stopped');

    expect((await box.piko(['up', 'cycled'], repo)).stdout).toMatch(/✓ cycled started \(docker, running\)/);
    expect(composeCalls().at(-1)!.args.slice(-2)).toEqual(['up', '-d']);
    expect(await status()).toBe('running');
    const restarted = await box.piko(['restart', 'app/cycled', '--json'], repo);
    expect(restarted.stdout.split('\n').map((l) => JSON.parse(l).type)).toEqual(['accepted', 'stage', 'log', 'stage', 'complete']);
  });

  it('refuse an environment without containers', async () => {
    const box = sandbox();
    const repo = await initProject(box, {});
    await box.piko(['create', 'plain'], repo);
    const result = await box.piko(['up', 'plain'], repo);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('app/plain is a simple environment: it has no containers to up');
  });
});

describe('status, vars, exec, shell, run', () => {
  it('status shows paths, ports, containers, tmux and the last operation', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE });
    const web = printedPort((await box.piko(['create', 'shown'], repo)).stdout, 'web:80');
    const text = (await box.piko(['status', 'shown'], repo)).stdout;
    expect(text).toContain('app/shown');
    expect(text).toMatch(/status +running \(docker\)/);
    expect(text).toContain(`worktree   ${join(repo, '.piko', 'worktrees', 'shown')}`);
    // The port piko chose, and the container (the stand-in docker) publishing it.
    expect(text).toContain(`port       web 80/tcp → localhost:${web}`);
    expect(text).toContain(`container  piko-app-shown-web-1  running  0.0.0.0:${web}->80/tcp`);
    expect(text).toMatch(/last +create op_\w+ succeeded in/);
    const json = JSON.parse((await box.piko(['status', 'shown', '--json'], repo)).stdout);
    expect(json).toMatchObject({ name: 'shown', composeProject: 'piko-app-shown', containers: [{ service: 'web', state: 'running' }], lastOperation: { kind: 'create', status: 'succeeded' } });
  });

  it('vars prints every PIKO_* variable, ready for eval, or as JSON', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE }, "it's");
    const web = printedPort((await box.piko(['create', 'quoted'], repo)).stdout, 'web:80');
    const worktree = join(repo, '.piko', 'worktrees', 'quoted');
    // The variable is the port the environment's compose file publishes.
    expect(writtenPorts(worktree).web).toEqual([`${web}:80/tcp`]);
    const shell = await execa('sh', ['-c', `eval "$(node ${PIKO_BIN} vars)"; echo "$PIKO_PROJECT|$PIKO_ENV_NAME|$PIKO_WEB_PORT|$PIKO_ENV_PATH"`], { cwd: worktree, env: box.env });
    expect(shell.stdout).toBe(`it's|quoted|${web}|${worktree}`);
    expect(JSON.parse((await box.piko(['vars', "it's/quoted", '--json'], repo)).stdout)).toMatchObject({ PIKO_ENV_ID: '1', PIKO_WEB_PORT: String(web) });
  });

  it('exec and shell run docker compose exec with stdin passed through and its exit code returned', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE, '.piko.yml': 'shells: {web: bash}\n' });
    await box.piko(['create', 'execd'], repo);
    const result = await execa('node', [PIKO_BIN, 'exec', 'execd', 'web', 'ls', '-la', '/app'], {
      cwd: repo,
      env: { ...box.env, FAKE_DOCKER_EXEC_EXIT: '3' },
      input: 'hello from stdin',
      reject: false,
    });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('exec ["-T","web","ls","-la","/app"]\nstdin: hello from stdin');
    // Its call, not one of the tmux windows' (which exec without -T).
    expect(box.docker.calls().findLast((c) => c.args.includes('-T'))!.args.slice(0, 5)).toEqual(['compose', '-p', 'piko-app-execd', '-f', 'docker-compose.piko.yml']);
    const shell = await execa('node', [PIKO_BIN, 'shell', 'execd', 'web'], { cwd: repo, env: box.env, input: '' });
    expect(shell.stdout.split('\n')[0]).toBe('exec ["-T","web","bash"]');
  });

  it('run runs scripts.run in the worktree with the variables and returns its exit code', async () => {
    const box = sandbox();
    const repo = await initProject(box, { '.piko.yml': 'scripts:\n  run: echo "running $PIKO_ENV_NAME in $(pwd)"; exit 7\n' });
    await box.piko(['create', 'runner'], repo);
    const result = await box.piko(['run', 'runner'], repo);
    expect(result.exitCode).toBe(7);
    expect(result.stdout).toBe(`running runner in ${join(repo, '.piko', 'worktrees', 'runner')}`);
  });
});

describe('names', () => {
  it('a bare name resolves in the project you stand in, else in the only project that has it; otherwise the candidates are listed', async () => {
    const box = sandbox();
    const a = await initProject(box, {}, 'alpha');
    const b = await initProject(box, {}, 'beta');
    await box.piko(['create', 'shared'], a);
    await box.piko(['create', 'shared'], b);
    await box.piko(['create', 'only-a'], a);
    const outside = tempDir();
    expect(JSON.parse((await box.piko(['vars', 'only-a', '--json'], outside)).stdout).PIKO_PROJECT).toBe('alpha');
    expect(JSON.parse((await box.piko(['vars', 'shared', '--json'], b)).stdout).PIKO_PROJECT).toBe('beta');
    const ambiguous = await box.piko(['vars', 'shared'], outside);
    expect(ambiguous.exitCode).toBe(1);
    expect(ambiguous.stderr).toContain('"shared" is in several projects: say which (alpha/shared, beta/shared)');
    const unknown = await box.piko(['status', 'nope'], a);
    expect(unknown.stderr).toContain('no environment "nope" in project alpha (environments: alpha/only-a, alpha/shared)');
    const none = await box.piko(['status'], a);
    expect(none.stderr).toContain('say which environment: you are not inside one');
    const inside = await box.piko(['vars', '--json'], join(b, '.piko', 'worktrees', 'shared'));
    expect(JSON.parse(inside.stdout).PIKO_PROJECT).toBe('beta');
  });
});

describe('doctor and projects', () => {
  it('doctor reports each tool, the server, the state and every project, and fails when something required is missing', async () => {
    const box = sandbox();
    const repo = await initProject(box, { 'docker-compose.yml': COMPOSE });
    const healthy = await box.piko(['doctor'], repo);
    expect(healthy.exitCode).toBe(0);
    expect(healthy.stdout).toMatch(/✓ git +git version/);
    expect(healthy.stdout).toMatch(/✓ docker daemon +27\.3\.1/);
    expect(healthy.stdout).toMatch(/- piko server +not running/);
    expect(healthy.stdout).toMatch(/✓ state +.*state\.db: ok/);
    expect(healthy.stdout).toContain(`✓ project app`);
    const noDaemon = await box.piko(['doctor', '--json'], repo, { FAKE_DOCKER_NO_DAEMON: '1' });
    expect(noDaemon.exitCode).toBe(1);
    const checks = JSON.parse(noDaemon.stdout) as unknown[];
    expect(checks).toContainEqual(expect.objectContaining({ name: 'docker daemon', result: 'missing', required: true, detail: expect.stringContaining('not reachable') }));
    // The client is there: only its daemon is down.
    expect(checks).toContainEqual(expect.objectContaining({ name: 'docker', result: 'ok', detail: '27.3.1' }));
  });

  it('projects lists them; project rm refuses while environments exist unless --force, which destroys them first', async () => {
    const box = sandbox();
    const repo = await initProject(box, {});
    await box.piko(['create', 'doomed'], repo);
    expect((await box.piko(['projects'], repo)).stdout).toMatch(new RegExp(`^app +1 +${repo}$`, 'm'));
    const refused = await box.piko(['project', 'rm', 'app'], repo);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('project app still has environments (doomed)');
    const forced = await box.piko(['project', 'rm', 'app', '--force'], repo);
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/✓ doomed destroyed/);
    expect(existsSync(join(repo, '.piko', 'worktrees', 'doomed'))).toBe(false);
    expect(JSON.parse((await box.piko(['projects', '--json'], repo)).stdout)).toEqual([]);
  });
});
