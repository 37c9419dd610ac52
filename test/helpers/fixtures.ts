// Real fixtures for tests: temporary git repositories built from a file map, a private
// PIKO_HOME, a stand-in `docker` on PATH that records its arguments, and the real CLI.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { execa, execaSync, type ResultPromise } from 'execa';
import { parse as parseYaml } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The command as it ships: the bundle npm run build makes. */
export const PIKO_BIN = join(ROOT, 'dist', 'bin', 'piko.js');

const made: string[] = [];
const tmuxServers: string[] = [];
const children: ResultPromise[] = [];

/** A fresh folder removed by `cleanup()`. Real path, so it compares equal to what git prints. */
export function tempDir(prefix = 'piko-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export function cleanup(): void {
  // A child a failed test left running (a test that passes has waited for its children).
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const socket of tmuxServers.splice(0)) {
    execaSync('tmux', ['-L', socket, 'kill-server'], { reject: false });
    // tmux (3.3) leaves the socket file of a server it killed.
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid!()}`, socket), { force: true });
  }
  // A stand-in docker a tmux window started just before its server was killed may still be
  // appending its call while its folder is removed: the removal tries again.
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
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
 * - `--version` prints the client's version; `version` prints a server version, or fails like a
 *   missing daemon when FAKE_DOCKER_NO_DAEMON is set;
 * - `compose version` answers as Compose v2, unless FAKE_DOCKER_COMPOSE_V1 is set: then only
 *   `docker-compose` (v1) exists;
 * - compose `up -d`, `down`, `restart` print container lines (and exit FAKE_DOCKER_UP_EXIT or
 *   FAKE_DOCKER_DOWN_EXIT when set); `exec` prints its arguments and stdin (and exits FAKE_DOCKER_EXEC_EXIT);
 * - the engine's `ps --filter label=com.docker.compose.project=<p>` lists a `web` container of
 *   each project that is up, with the ports the compose file given to its `up` published for
 *   `web`; `rm`, `network ls`, `volume ls` answer as an engine with nothing left.
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
// The web service's published ports, as the compose file given to \`up\` says: what ps reports.
const portsFile = ${JSON.stringify(join(bin, 'ports.json'))};
const published = () => (fs.existsSync(portsFile) ? JSON.parse(fs.readFileSync(portsFile, 'utf8')) : {});
const recordPorts = (project, file) => {
  let ports = [];
  try {
    const doc = require(${JSON.stringify(join(ROOT, 'node_modules', 'yaml'))}).parse(fs.readFileSync(file, 'utf8'));
    ports = ((doc.services && doc.services.web && doc.services.web.ports) || []).map((p) => {
      const [host, rest] = String(p).split(':').slice(-2);
      const [container, protocol] = rest.split('/');
      return '0.0.0.0:' + host + '->' + container + '/' + (protocol || 'tcp');
    });
  } catch {
    // No readable file: no ports.
  }
  fs.writeFileSync(portsFile, JSON.stringify({ ...published(), [project]: ports }));
};
const v1 = !!process.env.FAKE_DOCKER_COMPOSE_V1;
if (program === 'docker' && args[0] === '--version') {
  // The client alone: it answers whether or not a daemon runs.
  console.log('Docker version 27.3.1, build ce12230');
  process.exit(0);
}
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
    else console.log([project + sep + 'web' + sep + '1', 'running', 'web', (published()[project] || []).join(', ')].join('\\t'));
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
  recordPorts(project, path.resolve(args[args.indexOf('-f') + 1] || 'docker-compose.yml'));
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
  // Only whole lines: a call may be appending its line right now.
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .slice(0, -1)
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
  const spawn = (args: string[], cwd: string, extra: Record<string, string> = {}) => {
    const child = execa('node', [PIKO_BIN, ...args], { cwd, env: { ...env, ...extra }, reject: false, all: true });
    children.push(child);
    // Watched from the start, so waitForOutput sees every line the child printed.
    for (const stream of [child.stdout, child.stderr]) if (stream) transcript(stream);
    return child;
  };
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

interface Transcript {
  text: string;
  ended: boolean;
  wake: Set<() => void>;
}

const transcripts = new WeakMap<NodeJS.ReadableStream, Transcript>();

/** Everything `stream` has said since it was first watched (`sandbox().spawn` watches from the start). */
function transcript(stream: NodeJS.ReadableStream): Transcript {
  let record = transcripts.get(stream);
  if (record) return record;
  const decoder = new StringDecoder('utf8');
  const seen: Transcript = { text: '', ended: false, wake: new Set() };
  transcripts.set(stream, seen);
  const wake = () => seen.wake.forEach((w) => w());
  stream.on('data', (chunk: Buffer | string) => {
    seen.text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    wake();
  });
  const end = () => {
    seen.ended = true;
    wake();
  };
  stream.once('end', end);
  stream.once('close', end);
  record = seen;
  return record;
}

/**
 * Resolves with the output so far once `pattern` shows up in `stream` (anywhere since it was
 * first watched, so a line that came in the same chunk as an earlier one is not missed). Fails
 * with what it saw when the stream ends without it, or after `timeoutMs`.
 */
export function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const seen = transcript(stream);
  return new Promise((resolve, reject) => {
    const done = (fail?: Error) => {
      seen.wake.delete(check);
      clearTimeout(timer);
      if (fail) reject(fail);
      else resolve(seen.text);
    };
    const check = () => {
      if (pattern.test(seen.text)) done();
      else if (seen.ended) done(new Error(`the stream ended before ${pattern} showed up; it said:\n${seen.text}`));
    };
    const timer = setTimeout(() => done(new Error(`${pattern} did not show up within ${timeoutMs} ms; the stream said:\n${seen.text}`)), timeoutMs);
    seen.wake.add(check);
    check();
  });
}

/**
 * Polls `condition` until it returns something other than `undefined` or `false`, and returns
 * that. After `timeoutMs` the test fails, saying what it was waiting for.
 */
export async function eventually<T>(what: string, condition: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The text of `path` once it exists and holds a whole line (a shell's `echo … > file` may be half-way). */
export function waitForFile(path: string, timeoutMs?: number): Promise<string> {
  return eventually(
    `${path} to be written`,
    () => {
      try {
        const text = readFileSync(path, 'utf8');
        return text.endsWith('\n') ? text : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
  );
}

/** Whether `pid` is a live process (a zombie waiting for its reaper does not count). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once `pid` is gone (or a zombie); fails the test if it is still running after `timeoutMs`. */
export function waitUntilGone(pid: number, what = `process ${pid}`, timeoutMs = 10_000): Promise<true> {
  return eventually(`${what} to be gone`, () => !isRunning(pid), timeoutMs);
}

export interface Gates {
  /**
   * A shell command that waits until every gate named is opened, for a script to run where a
   * test must see something happen first (a line, a disconnect) before the script may go on.
   * A name may use the script's variables (`$PIKO_ENV_NAME`). The command gives up with exit
   * 99 after `seconds`, and at once when the test's folders are cleaned up, so a script the
   * test leaves waiting does not outlive it.
   */
  wait(names?: string | string[], seconds?: number): string;
  /** Opens a gate from the test. */
  open(name?: string): void;
  /** A shell command that opens a gate, for scripts that wait for each other. */
  opener(name?: string): string;
  /** Closes a gate again, for the next run of the same script. */
  close(name?: string): void;
}

/** Gates a test opens for its scripts: files in a folder of their own. */
export function gates(): Gates {
  const dir = tempDir('piko-gate-');
  const script = join(dir, 'wait.sh');
  writeFileSync(
    script,
    `#!/bin/sh
# wait.sh TENTHS FILE...: waits until every FILE exists.
dir=$(dirname "$0")
limit=$1
shift
i=0
for file in "$@"; do
  while [ ! -e "$file" ]; do
    [ -d "$dir" ] || exit 98
    i=$((i + 1))
    if [ "$i" -gt "$limit" ]; then
      echo "gate $file was never opened" >&2
      exit 99
    fi
    sleep 0.1
  done
done
`,
    { mode: 0o755 },
  );
  return {
    wait: (names = 'gate', seconds = 90) =>
      `sh '${script}' ${seconds * 10} ${(Array.isArray(names) ? names : [names]).map((name) => `"${join(dir, name)}"`).join(' ')}`,
    open: (name = 'gate') => writeFileSync(join(dir, name), ''),
    opener: (name = 'gate') => `touch "${join(dir, name)}"`,
    close: (name = 'gate') => rmSync(join(dir, name), { force: true }),
  };
}

/** The host ports piko printed, from its `[docker] web: 80/tcp → localhost:10180` lines: `{ 'web:80': 10180 }`. */
export function printedPorts(output: string): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const m of output.matchAll(/^\[docker\] ([\w.-]+): (\d+)\/\w+ → localhost:(\d+)$/gm)) ports[`${m[1]}:${m[2]}`] = Number(m[3]);
  return ports;
}

/**
 * The host port piko printed for `service:containerPort` (`web:80`), which must be one of the
 * ports of environment `id`'s block (10000 + 100 × id …, see stages/docker/ports.ts). piko
 * prefers the port of the block ending in the container port's last two digits, but takes
 * another when something on this machine (another test run, another environment's
 * containers) holds that one: tests read the port it chose rather than expect the preferred one.
 */
export function printedPort(output: string, key: string, id = 1): number {
  const port = printedPorts(output)[key];
  const first = 10000 + 100 * id;
  if (port === undefined || port < first || port > first + 99) {
    throw new Error(`expected piko to print a host port of ${first}-${first + 99} for ${key}, got ${port}; it printed:\n${output}`);
  }
  return port;
}

/** The `ports:` piko wrote for each service into `docker-compose.piko.yml` in `dir`. */
export function writtenPorts(dir: string): Record<string, string[]> {
  const doc = parseYaml(readFileSync(join(dir, 'docker-compose.piko.yml'), 'utf8')) as { services: Record<string, { ports?: string[] }> };
  return Object.fromEntries(Object.entries(doc.services).map(([name, service]) => [name, service.ports ?? []]));
}

/** A duration as piko prints it (`412ms`, `1.2s`, `2m 5s`): tests do not say how long things take. */
export const DURATION = String.raw`(?:\d+ms|\d+\.\ds|\d+m \d+s)`;

/** CLI output with what legitimately differs between two runs masked: commits, times, operation ids. */
export function normalizeOutput(text: string): string {
  return text
    .replace(/HEAD is now at \w+/g, 'HEAD is now at <commit>')
    .replace(/\b\d+(\.\d+)?(ms|s)\b/g, '<time>')
    .replace(/op_\w+/g, 'op_<id>');
}

/**
 * Closes every connection to `port` on 127.0.0.1 under whoever holds it, as a network that drops
 * them would (`ss -K`: the kernel resets them; root, and a kernel with sock_destroy, which
 * these machines have). Throws when ss cannot, rather than let a test wait for a drop that never
 * comes.
 */
export async function dropConnections(port: number): Promise<void> {
  const killed = await execa('ss', ['-K', '-t', 'dst', '127.0.0.1', 'dport', '=', `:${port}`], { reject: false });
  if (killed.exitCode !== 0 || !killed.stdout.includes(`:${port}`)) {
    throw new Error(`ss -K closed no connection to port ${port} (${killed.exitCode}): ${killed.stderr || killed.stdout || 'nothing printed'}`);
  }
}
