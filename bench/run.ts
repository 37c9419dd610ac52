// `npm run bench`: what streaming through `piko server` costs, measured side by side in one run
// (ratios of runs interleaved, median of several, with their spread). Prints a Markdown table
// and, with --write, puts it in bench/README.md with the date and the machine.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import WebSocket from 'ws';
import { env, median, ms, notes, peakMb, piko, PIKO, repo, ROOT, row, rows, rssMb, RUNS, spread, startServer, stopServer, timed, work } from './harness.js';
import { completion } from './completion.js';
import { dashboard } from './dashboard.js';
import { data } from './data.js';
import { stalledReplays } from './replays.js';
import { overhead, scale } from './scale.js';
import { createCost, startup } from './startup.js';
import { warmCreate } from './warm.js';

// ---- 1. throughput ---------------------------------------------------------------------------

const LINE = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu';
/** Preloaded into a client: writes its peak RSS (MB) to $PIKO_BENCH_PEAK as it exits. */
const PEAK = join(ROOT, 'bench', 'peak.cjs');

const FLOOD = `awk 'BEGIN { for (i = 0; i < 400000; i++) printf "%07d %s\\n", i, "${LINE}" }'`;

async function throughput(): Promise<void> {
  const dir = await repo('throughput', FLOOD);
  // The same create with a setup that prints nothing: what a create costs besides the streaming.
  const quiet = await repo('throughput-quiet', 'true');
  const server = await startServer();
  const times: Record<string, number[]> = { shell: [], relay: [], stdout: [], quiet: [], websocket: [], sse: [] };
  // Each client's peak RSS (MB), and Node's own for scale.
  const peaks: Record<string, number[]> = { stdout: [], websocket: [], sse: [], node: [] };
  const peakFile = join(work, 'peak.txt');
  const out = join(work, 'out.txt');
  for (let run = 0; run < RUNS; run++) {
    for (const variant of ['shell', 'relay', 'stdout', 'quiet', 'websocket', 'sse']) {
      if (variant === 'shell') {
        await execa('node', ['-r', PEAK, '-e', '0'], { env: { ...env, PIKO_BENCH_PEAK: peakFile } });
        peaks.node!.push(Number(readFileSync(peakFile, 'utf8')));
        times.shell!.push(await timed(() => execa('sh', ['-c', `${FLOOD} > ${out}`])));
        continue;
      }
      if (variant === 'relay') {
        // The least a tool that prefixes each line of a script's output can do: a pipe through awk.
        times.relay!.push(await timed(() => execa('sh', ['-c', `${FLOOD} | awk '{ print "[setup] " $0 }' > ${out}`])));
        continue;
      }
      if (variant === 'quiet') {
        times.quiet!.push(await timed(() => execa('sh', ['-c', `node ${PIKO} create flood --transport stdout --no-attach > ${out} 2>/dev/null`], { cwd: quiet, env })));
        await piko(['destroy', 'flood', '--force', '--transport', 'stdout'], quiet);
        continue;
      }
      const t = await timed(() =>
        execa('sh', ['-c', `node -r ${PEAK} ${PIKO} create flood --transport ${variant} --no-attach > ${out} 2>/dev/null`], { cwd: dir, env: { ...env, PIKO_BENCH_PEAK: peakFile } }),
      );
      peaks[variant]!.push(Number(readFileSync(peakFile, 'utf8')));
      const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('[setup] ')).length;
      if (lines !== 400_000) throw new Error(`${variant}: the client showed ${lines} of 400000 lines`);
      times[variant]!.push(t);
      await piko(['destroy', 'flood', '--force', '--transport', 'stdout'], dir);
    }
  }
  await stopServer(server);
  const ratio = (a: string, b: string) => times[a]!.map((t, i) => t / times[b]![i]!);
  for (const variant of ['websocket', 'sse']) {
    const r = ratio(variant, 'stdout');
    row(`throughput: ${variant} / stdout`, `${median(r).toFixed(2)}×`, '≤ 1.10', median(r) <= 1.1, `400k lines of 80 B, all counted at the client; ${variant} ${ms(median(times[variant]!))}, stdout ${ms(median(times.stdout!))}; ratios ${spread(r, 2)}`);
  }
  const relay = ratio('stdout', 'relay');
  row('throughput: local create / a prefixing relay', `${median(relay).toFixed(1)}×`, '≤ 2', median(relay) <= 2, `piko create --transport stdout ${ms(median(times.stdout!))} (with git worktree, tmux, state, the operation log) vs the script piped through awk adding the prefix ${ms(median(times.relay!))}; ratios ${spread(relay, 1)}`);
  // What the streaming itself costs: the create that printed 400k lines less the same create
  // printing nothing, against the relay (both include the script's own run).
  const streaming = times.stdout!.map((t, i) => (t - times.quiet![i]!) / times.relay![i]!);
  row('throughput: local streaming / a prefixing relay', `${median(streaming).toFixed(1)}×`, '≤ 2', median(streaming) <= 2, `piko create --transport stdout ${ms(median(times.stdout!))} less the same create with a setup that prints nothing ${ms(median(times.quiet!))}, vs the relay ${ms(median(times.relay!))}; ratios ${spread(streaming, 1)}`);
  row('throughput: stdout / bare shell', `${median(ratio('stdout', 'shell')).toFixed(1)}×`, '', undefined, `piko ${ms(median(times.stdout!))} (with git worktree, tmux, state) vs the script alone ${ms(median(times.shell!))}`);
  for (const variant of ['websocket', 'sse']) {
    const peak = median(peaks[variant]!);
    row(`memory: ${variant} client peak RSS, 400k-line create`, `${peak.toFixed(0)} MB`, '≤ 50 MB', peak <= 50, `spread ${spread(peaks[variant]!, 0)} MB; node -e 0 ${median(peaks.node!).toFixed(0)} MB, the local create (stdout) ${median(peaks.stdout!).toFixed(0)} MB`);
  }
}

// ---- 2. latency ------------------------------------------------------------------------------

async function latency(): Promise<void> {
  const dir = await repo('latency', 'for i in $(seq 1 40); do date +%s%N; sleep 0.05; done');
  const server = await startServer();
  const delays: Record<string, number[]> = { stdout: [], websocket: [], sse: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const transport of ['stdout', 'websocket', 'sse']) {
      const child = execa('node', [PIKO, 'create', 'late', '--transport', transport, '--no-attach'], { cwd: dir, env, buffer: false, reject: false });
      let rest = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const now = (performance.timeOrigin + performance.now()) * 1e6;
        const text = rest + chunk.toString();
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const printed = /^\[setup\] (\d{19})$/.exec(line);
          if (printed) delays[transport]!.push((now - Number(printed[1])) / 1e6);
        }
      });
      await child;
      await piko(['destroy', 'late', '--force', '--transport', 'stdout'], dir);
    }
  }
  await stopServer(server);
  for (const transport of ['stdout', 'websocket', 'sse']) {
    const d = [...delays[transport]!].sort((a, b) => a - b);
    const p95 = d[Math.floor(d.length * 0.95)]!;
    row(`latency: ${transport}`, `p95 ${p95.toFixed(1)} ms`, '≤ 5 ms', p95 <= 5, `p50 ${median(d).toFixed(1)} ms over ${d.length} lines printed every 50 ms (printed → read from the client's stdout)`);
  }
}

// ---- 4. memory -------------------------------------------------------------------------------

async function memory(): Promise<void> {
  const dir = await repo('memory', `yes ${'m'.repeat(90)} | head -n 660000`);
  const server = await startServer();
  await new Promise((r) => setTimeout(r, 300));
  const idle = rssMb(server.pid);
  const url = new URL('/api/environments/create/stream?batch=1', server.url);
  url.protocol = 'ws:';
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${server.token}` } });
  let resolveDone: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let dropped = 0;
  socket.on('open', () => socket.send(JSON.stringify({ action: 'create', project: 'memory', environment: 'stalled' })));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; count?: number };
    if (message.type === 'accepted') socket.pause();
    if (message.type === 'dropped') dropped += message.count!;
    if (message.type === 'complete') resolveDone();
  });
  socket.on('close', () => resolveDone());
  // The operation finishes while the client reads nothing; then the client catches up.
  for (let i = 0; i < 120; i++) {
    const status = await piko(['list', '--json'], dir);
    if ((JSON.parse(status.stdout) as { name: string; status: string }[]).some((e) => e.name === 'stalled' && e.status === 'ready')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const peak = peakMb(server.pid);
  socket.resume();
  await done;
  socket.close();
  // What the server keeps once the operation and its client are done, and it has been idle long
  // enough to give back what it took (cli/server/idle.ts: collections 1 s and 7 s after).
  await new Promise((r) => setTimeout(r, 9000));
  const after = rssMb(server.pid);
  await stopServer(server);
  row('memory: server idle RSS', `${idle.toFixed(0)} MB`, '≤ 70 MB', idle <= 70, 'after start-up, before any request');
  row('memory: server peak RSS, stalled client sent 60 MB', `${peak.toFixed(0)} MB`, '≤ 150 MB', peak <= 150, `idle server ${idle.toFixed(0)} MB; the client was told ${dropped} lines were dropped`);
  row('memory: server RSS after that operation / idle', `${(after / idle).toFixed(2)}×`, '≤ 1.2', after / idle <= 1.2, `${after.toFixed(0)} MB 9 s after the client caught up and left, against ${idle.toFixed(0)} MB idle`);
}

// ---- main ------------------------------------------------------------------------------------

try {
  const started = performance.now();
  // `--only startup,createCost` runs just those.
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
  const benches = [throughput, latency, startup, createCost, completion, memory, stalledReplays, scale, overhead, warmCreate, data, dashboard].filter((bench) => !only || only.includes(bench.name));
  for (const bench of benches) {
    const t = await timed(bench);
    console.log(`  (${bench.name}: ${(t / 1000).toFixed(0)} s)`);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const table = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}; ${RUNS} interleaved runs each, median (spread).`,
    '',
    '| measure | figure | target | | detail |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    ...notes,
  ].join('\n');
  console.log(`\n${table}\n\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  if (process.argv.includes('--write')) {
    const path = join(ROOT, 'bench', 'README.md');
    const readme = readFileSync(path, 'utf8');
    writeFileSync(path, readme.replace(/<!-- results -->[^]*<!-- \/results -->/, `<!-- results -->\n${table}\n<!-- /results -->`));
  }
} finally {
  await execa('tmux', ['-L', env.PIKO_TMUX_SOCKET, 'kill-server'], { reject: false });
  rmSync(work, { recursive: true, force: true });
}
