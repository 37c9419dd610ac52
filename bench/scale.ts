// Many operations at once through one server (against the same ones one after the other), and
// what a server costs an operation that prints nothing (against running it here).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import WebSocket from 'ws';
import { env, median, ms, piko, PIKO, repo, row, RUNS, spread, startServer, stopServer, timed } from './harness.js';
// ---- 5. scale --------------------------------------------------------------------------------

export async function scale(): Promise<void> {
  const dir = await repo('scale', 'for i in $(seq 1 2000); do echo "work $i"; done; sleep 0.5');
  const server = await startServer();
  const parallel: number[] = [];
  const sequential: number[] = [];
  const names = Array.from({ length: 8 }, (_, i) => `s${i}`);
  const clean = () => Promise.all(names.map((n) => piko(['destroy', n, '--force', '--transport', 'stdout'], dir)));
  for (let run = 0; run < RUNS; run++) {
    parallel.push(await timed(() => Promise.all(names.map((n) => piko(['create', n, '--no-attach'], dir)))));
    await clean();
    sequential.push(await timed(async () => {
      for (const n of names) await piko(['create', n, '--transport', 'stdout', '--no-attach'], dir);
    }));
    await clean();
  }
  const r = parallel.map((t, i) => t / sequential[i]!);
  row('scale: 8 concurrent creates on one server / 8 sequential local', `${median(r).toFixed(2)}×`, '', undefined, `${ms(median(parallel))} vs ${ms(median(sequential))}; ratios ${spread(r, 2)}`);

  // Fan-out: 16 clients re-attached to one running operation.
  const fan = await repo('fanout', 'for i in $(seq 1 3000); do echo "tick $i"; done; sleep 1; for i in $(seq 3001 6000); do echo "tick $i"; done');
  void fan;
  let operation = '';
  const url = (path: string) => {
    const u = new URL(path, server.url);
    u.protocol = 'ws:';
    return u;
  };
  const headers = { authorization: `Bearer ${server.token}` };
  const starter = new WebSocket(url('/api/environments/create/stream'), { headers });
  const accepted = new Promise<void>((resolve) =>
    starter.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; operation?: string };
      if (m.type === 'accepted') {
        operation = m.operation!;
        resolve();
      }
    }),
  );
  starter.on('open', () => starter.send(JSON.stringify({ action: 'create', project: 'fanout', environment: 'fan' })));
  await accepted;
  const counts = await Promise.all(
    Array.from({ length: 16 }, () => new Promise<number>((resolve) => {
      let lines = 0;
      const follower = new WebSocket(url(`/api/operations/${operation}/stream`), { headers });
      follower.on('message', (data) => {
        const m = JSON.parse(String(data)) as { type: string; source?: string };
        if (m.type === 'log' && m.source === 'script:setup') lines++;
      });
      follower.on('close', () => resolve(lines));
    })),
  );
  starter.close();
  await stopServer(server);
  const all = counts.every((c) => c === 6000);
  row('fan-out: 16 clients re-attached to one running operation', all ? 'every client got all 6000 lines' : `counts ${counts.join(', ')}`, 'every line', all, 'attached while the operation ran; each replayed what came before, then followed live');
}

// ---- 6. overhead -----------------------------------------------------------------------------

export async function overhead(): Promise<void> {
  const dir = await repo('overhead', '');
  const bare: number[] = [];
  const full: number[] = [];
  const parts: Record<string, number[]> = {};
  const add = (key: string, value: number) => (parts[key] ??= []).push(value);
  for (let run = 0; run < Math.max(RUNS, 5); run++) {
    bare.push(await timed(() => execa('git', ['worktree', 'add', '-q', '-b', 'bare', join(dir, '.piko', 'bare')], { cwd: dir })));
    await execa('git', ['worktree', 'remove', '--force', join(dir, '.piko', 'bare')], { cwd: dir });
    await execa('git', ['branch', '-D', 'bare'], { cwd: dir });
    const start = performance.now();
    const child = execa('node', [PIKO, 'create', 'light', '--transport', 'stdout', '--json'], { cwd: dir, env, buffer: false });
    let acceptedAt = 0;
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!acceptedAt) acceptedAt = performance.now();
      text += chunk.toString();
    });
    await child;
    const total = performance.now() - start;
    full.push(total);
    const messages = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; name?: string; state?: string; durationMs?: number });
    const complete = messages.at(-1)!;
    add('to accepted (start-up, config, state, checks)', acceptedAt - start);
    for (const m of messages) if (m.type === 'stage' && m.state === 'end') add(`stage ${m.name}`, m.durationMs!);
    add('after the last stage (state, exit)', total - (acceptedAt - start) - complete.durationMs!);
    await piko(['destroy', 'light', '--force', '--transport', 'stdout'], dir);
  }
  const breakdown = Object.entries(parts).map(([k, v]) => `${k} ${ms(median(v))}`).join('; ');
  row('overhead: piko create (empty setup) − git worktree add', `+${ms(median(full) - median(bare))}`, '', undefined, `${ms(median(full))} vs ${ms(median(bare))}; ${breakdown}`);
}
