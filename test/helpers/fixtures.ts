// Real fixtures for tests: temporary git repositories built from a file map, a private
// PIKO_HOME, a stand-in `docker` on PATH that records its arguments, and the real CLI.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, execaSync, type ResultPromise } from 'execa';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PIKO_BIN = join(ROOT, 'dist', 'cli', 'piko.js');

const made: string[] = [];
const tmuxServers: string[] = [];

/** A fresh folder removed by `cleanup()`. Real path, so it compares equal to what git prints. */
export function tempDir(prefix = 'piko-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  for (const socket of tmuxServers.splice(0)) execaSync('tmux', ['-L', socket, 'kill-server'], { reject: false });
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    if (name.endsWith('.sh')) chmodSync(path, 0o755);
  }
}

export function git(cwd: string, ...args: string[]): string {
  return execaSync('git', args, { cwd }).stdout;
}

/** A git repository named `name` with `files` committed on `main`. */
export function makeRepo(files: Record<string, string> = {}, name = 'app'): string {
  const dir = join(tempDir(), name);
  mkdirSync(dir);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'piko test');
  writeFiles(dir, { 'README.md': '# test repo\n', ...files });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export interface FakeDocker {
  /** Folder to put first on PATH. */
  bin: string;
  /** Every call so far: the program (`docker` or `docker-compose`), its arguments and working directory. */
  calls(): { program: string; args: string[]; cwd: string }[];
  /** The last compose call with `verb` (`up`, `down`…) among its arguments. */
  lastCompose(verb: string): { program: string; args: string[]; cwd: string } | undefined;
  /** The compose projects whose containers are up now. */
  upProjects(): string[];
}

/**
 * A `docker` (and a Compose v1 `docker-compose`) that records each call and answers like a
 * working docker would, keeping which compose projects are up in a file beside it:
 * - `version` prints a server version, or fails like a missing daemon when FAKE_DOCKER_NO_DAEMON is set;
 * - `compose version` answers as Compose v2, unless FAKE_DOCKER_COMPOSE_V1 is set: then only
 *   `docker-compose` (v1) exists;
 * - compose `up -d`, `down`, `restart` print container lines (and exit FAKE_DOCKER_UP_EXIT or
 *   FAKE_DOCKER_DOWN_EXIT when set); `exec` prints its arguments and stdin (and exits FAKE_DOCKER_EXEC_EXIT);
 * - the engine's `ps --filter label=com.docker.compose.project=<p>` lists a `web` container of
 *   each project that is up; `rm`, `network ls`, `volume ls` answer as an engine with nothing left.
 */
export function fakeDocker(): FakeDocker {
  const bin = tempDir('piko-docker-');
  const log = join(bin, 'calls.ndjson');
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const program = path.basename(process.argv[1]);
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ program, args, cwd: process.cwd() }) + '\\n');
const upFile = ${JSON.stringify(join(bin, 'up.json'))};
const up = () => (fs.existsSync(upFile) ? JSON.parse(fs.readFileSync(upFile, 'utf8')) : []);
const setUp = (project, on) => fs.writeFileSync(upFile, JSON.stringify([...up().filter((p) => p !== project), ...(on ? [project] : [])]));
const v1 = !!process.env.FAKE_DOCKER_COMPOSE_V1;
if (program === 'docker' && args[0] === 'version') {
  if (process.env.FAKE_DOCKER_NO_DAEMON) {
    console.error('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    process.exit(1);
  }
  console.log('27.3.1');
  process.exit(0);
}
if (program === 'docker' && args[0] !== 'compose') {
  const label = args.find((a) => a.startsWith('label=com.docker.compose.project='));
  const project = label && label.split('=').pop();
  if (args[0] === 'ps' && project && up().includes(project)) {
    const sep = v1 ? '_' : '-';
    if (args.includes('--quiet')) console.log('id-' + project);
    else console.log([project + sep + 'web' + sep + '1', 'running', 'web', '0.0.0.0:10180->80/tcp'].join('\\t'));
  }
  if (args[0] === 'rm') for (const id of args.filter((a) => a.startsWith('id-'))) setUp(id.slice(3), false);
  process.exit(0);
}
if (program === 'docker' && v1) {
  console.error("docker: 'compose' is not a docker command.");
  process.exit(1);
}
const project = args[args.indexOf('-p') + 1];
const sep = program === 'docker-compose' ? '_' : '-';
if (args.includes('up')) {
  console.error(' Network ' + project + ' Created');
  console.error(' Container ' + project + sep + 'web' + sep + '1 Started');
  const code = Number(process.env.FAKE_DOCKER_UP_EXIT || 0);
  setUp(project, code === 0);
  process.exit(code);
}
if (args.includes('down')) {
  console.error(' Container ' + project + sep + 'web' + sep + '1 Removed');
  const code = Number(process.env.FAKE_DOCKER_DOWN_EXIT || 0);
  if (code === 0) setUp(project, false);
  process.exit(code);
}
if (args.includes('restart')) {
  console.error(' Container ' + project + sep + 'web' + sep + '1 Restarted');
  process.exit(0);
}
if (args.includes('exec')) {
  console.log('exec ' + JSON.stringify(args.slice(args.indexOf('exec') + 1)));
  if (!process.stdin.isTTY) console.log('stdin: ' + fs.readFileSync(0, 'utf8').trim());
  process.exit(Number(process.env.FAKE_DOCKER_EXEC_EXIT || 0));
}
if (args.includes('version')) {
  console.log(program === 'docker-compose' ? '1.29.2' : '2.29.7');
  process.exit(0);
}
`;
  for (const program of ['docker', 'docker-compose']) {
    writeFileSync(join(bin, program), script);
    chmodSync(join(bin, program), 0o755);
  }
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { program: string; args: string[]; cwd: string })
      : [];
  return {
    bin,
    calls,
    upProjects: () => (existsSync(join(bin, 'up.json')) ? (JSON.parse(readFileSync(join(bin, 'up.json'), 'utf8')) as string[]) : []),
    lastCompose: (verb) => calls().findLast((c) => (c.program === 'docker-compose' || c.args[0] === 'compose') && c.args.includes(verb)),
  };
}

/**
 * A PATH holding only node, git and sh (links to the real ones): no docker, whatever the
 * machine has installed.
 */
export function pathWithoutDocker(): string {
  const bin = tempDir('piko-bin-');
  for (const tool of ['git', 'sh']) {
    const real = execaSync('sh', ['-c', `command -v ${tool}`]).stdout.trim();
    symlinkSync(real, join(bin, tool));
  }
  symlinkSync(process.execPath, join(bin, 'node'));
  return bin;
}

export interface PikoRun {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
}

export interface Sandbox {
  home: string;
  /** The test's own tmux server: `tmux -L <socket>`. */
  socket: string;
  docker: FakeDocker;
  env: Record<string, string>;
  /** Runs the real CLI to completion. */
  piko(args: string[], cwd: string, env?: Record<string, string>): Promise<PikoRun>;
  /** Starts the real CLI and returns the running child. */
  spawn(args: string[], cwd: string, env?: Record<string, string>): ResultPromise<{ reject: false; all: true }>;
}

/**
 * A private PIKO_HOME and a fake docker first on PATH, for one test; with `realDocker`, the
 * machine's own docker and compose instead (the fake is made but not on PATH).
 */
export function sandbox(options: { realDocker?: boolean } = {}): Sandbox {
  const home = tempDir('piko-home-');
  const docker = fakeDocker();
  // Every test's tmux sessions live on a tmux server of its own, killed by cleanup().
  const socket = `piko-test-${process.pid}-${tmuxServers.length}-${Date.now()}`;
  tmuxServers.push(socket);
  const path = options.realDocker ? (process.env.PATH ?? '') : `${docker.bin}:${process.env.PATH ?? ''}`;
  const env = { PIKO_HOME: home, PATH: path, NO_COLOR: '1', PIKO_TMUX_SOCKET: socket };
  const spawn = (args: string[], cwd: string, extra: Record<string, string> = {}) =>
    execa('node', [PIKO_BIN, ...args], { cwd, env: { ...env, ...extra }, reject: false, all: true });
  return {
    home,
    socket,
    docker,
    env,
    spawn,
    async piko(args, cwd, extra = {}) {
      const result = await spawn(args, cwd, extra);
      return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode };
    },
  };
}

/** A repository with `files` committed, registered with `piko init`. */
export async function initProject(box: Sandbox, files: Record<string, string> = {}, name = 'app'): Promise<string> {
  const repo = makeRepo(files, name);
  const init = await box.piko(['init'], repo);
  if (init.exitCode !== 0) throw new Error(`piko init failed: ${init.stderr}`);
  return repo;
}

/** Resolves with the output so far once `pattern` shows up in `stream`. */
export function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before ${pattern}: ${seen}`)));
  });
}

/** CLI output with what legitimately differs between two runs masked: commits, times, operation ids. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/HEAD is now at \w+/g, 'HEAD is now at <commit>')
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, '<time>')
    .replace(/op_\w+/g, 'op_<id>');
}
