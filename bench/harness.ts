// What every benchmark uses: a private PIKO_HOME, throwaway repositories, a real server, timing
// helpers, and the rows of the results table.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const PIKO = join(ROOT, 'dist', 'bin', 'piko.js');
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);

export const work = mkdtempSync(join(tmpdir(), 'piko-bench-'));
export const home = join(work, 'home');
export const env = { PIKO_HOME: home, PIKO_TMUX_SOCKET: `piko-bench-${process.pid}`, NO_COLOR: '1' };

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const spread = (xs: number[], digits = 0): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
export const ms = (x: number): string => `${x.toFixed(0)} ms`;

export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export function piko(args: string[], cwd: string, extra: Record<string, string> = {}) {
  return execa('node', [PIKO, ...args], { cwd, env: { ...env, ...extra }, reject: false });
}

export async function repo(name: string, setup: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(work, name);
  await execa('mkdir', ['-p', dir]);
  const git = (...args: string[]) => execa('git', args, { cwd: dir });
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, '.piko.yml'), setup ? `scripts:\n  setup: ${JSON.stringify(setup)}\n` : '{}\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  await git('add', '-A');
  await git('-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'bench');
  await piko(['init'], dir);
  return dir;
}

export async function startServer(): Promise<{ child: ResultPromise; url: string; token: string; pid: number }> {
  const child = execa('node', [PIKO, 'server', '--port', '0'], { env, reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      const info = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { url: string; token: string; pid: number };
      if (info.pid === child.pid) return { child, ...info };
    } catch {
      // Not written yet.
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the server did not start');
}

export async function stopServer(server: { child: ResultPromise }): Promise<void> {
  server.child.kill('SIGTERM');
  await server.child;
}

export const peakMb = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
export const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export const rows: string[][] = [];
export const notes: string[] = [];
export function row(what: string, figure: string, target: string, met: boolean | undefined, detail: string): void {
  rows.push([what, figure, target, met === undefined ? '' : met ? 'met' : '**missed**', detail]);
  console.log(`${what}: ${figure} (${detail})`);
}
