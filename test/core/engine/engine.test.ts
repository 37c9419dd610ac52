import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { StageContext } from '../../../core/engine/engine.js';
import { OperationLog, readOperationLog } from '../../../core/state/operation-log.js';
import type { LogBatchMessage, LogMessage, OperationMessage, OutputMessage } from '../../../core/protocol/messages.js';
import { cleanup, gates, ROOT, tempDir, waitForFile, waitUntilGone } from '../../helpers/fixtures.js';
import { engineHarness, stagesPlugin } from '../../helpers/engine-fixtures.js';

afterEach(cleanup);

const names = (messages: OperationMessage[]) =>
  messages.filter((m) => m.type === 'stage').map((m) => `${m.name}:${m.state}${m.state === 'end' ? (m.ok ? ':ok' : ':failed') : ''}`);

const logs = (messages: OperationMessage[]) =>
  messages.filter((m): m is LogMessage => m.type === 'log').map((m) => `[${m.source}/${m.stream}] ${m.data.trimEnd()}`);

function step(name: string, order: number, trail: string[], extra: Partial<{ before: string; after: string; fail: boolean; optional: boolean }> = {}) {
  return {
    name,
    order,
    before: extra.before,
    after: extra.after,
    optional: extra.optional ?? false,
    async run(ctx: StageContext) {
      trail.push(`run ${name}`);
      ctx.info(`hello from ${name}`);
      if (extra.fail) await ctx.exec('sh', ['-c', 'echo failing >&2; exit 7']);
    },
    async rollback() {
      trail.push(`undo ${name}`);
    },
  };
}

describe('Engine', () => {
  it('runs stages by position and before/after, not by registration order', async () => {
    const trail: string[] = [];
    const h = engineHarness(
      stagesPlugin('late', step('setup', 400, trail), step('migrate', 500, trail, { after: 'docker' })),
      stagesPlugin('early', step('git', 100, trail), step('docker', 300, trail), step('seed', 500, trail, { before: 'git' })),
    );
    const complete = await h.engine.run(h.operation());
    expect(complete.success).toBe(true);
    expect(trail).toEqual(['run seed', 'run git', 'run docker', 'run migrate', 'run setup']);
  });

  it('numbers every message 0, 1, 2… and logs exactly what it sent', async () => {
    const h = engineHarness(stagesPlugin('p', {
      name: 'chatty',
      order: 1,
      run: (ctx) => ctx.exec('sh', ['-c', 'for i in 1 2 3; do echo out $i; echo err $i >&2; done']).then(() => undefined),
    }));
    const operation = h.operation();
    const complete = await h.engine.run(operation);
    expect(complete).toMatchObject({ type: 'complete', success: true, operation: operation.id });
    expect(h.messages.map((m) => m.seq)).toEqual(h.messages.map((_, i) => i));
    expect(h.messages[0]).toEqual({ type: 'accepted', operation: operation.id, action: 'create', project: 'app', environment: operation.environment.name, seq: 0 });
    expect(readOperationLog(operation.log.path)).toEqual(h.messages);
    expect(readFileSync(operation.log.path, 'utf8').endsWith('\n')).toBe(true);
    const out = logs(h.messages);
    expect(out.filter((l) => l.includes('/stdout]'))).toEqual(['[chatty/stdout] out 1', '[chatty/stdout] out 2', '[chatty/stdout] out 3']);
    expect(out.filter((l) => l.includes('/stderr]'))).toEqual(['[chatty/stderr] err 1', '[chatty/stderr] err 2', '[chatty/stderr] err 3']);
    const end = h.messages.find((m) => m.type === 'stage' && m.state === 'end');
    expect(end).toMatchObject({ name: 'chatty', ok: true, durationMs: expect.any(Number) });
  });

  it('rolls back the failing stage and every earlier one, last first, and runs nothing after it', async () => {
    const trail: string[] = [];
    const h = engineHarness(
      stagesPlugin('p', step('one', 1, trail), step('two', 2, trail), step('three', 3, trail, { fail: true }), step('four', 4, trail)),
    );
    const complete = await h.engine.run(h.operation());
    expect(trail).toEqual(['run one', 'run two', 'run three', 'undo three', 'undo two', 'undo one']);
    expect(complete).toMatchObject({
      success: false,
      stage: 'three',
      exitCode: 7,
      error: "three failed: `sh -c 'echo failing >&2; exit 7'` exited with code 7",
      code: 'PIKO_ERR_STAGE_FAILED',
    });
    expect(names(h.messages)).toEqual(['one:start', 'one:end:ok', 'two:start', 'two:end:ok', 'three:start', 'three:end:failed']);
    expect(logs(h.messages)).toContain('[three/stderr] failing');
    expect(logs(h.messages)).toContain('[piko/stdout] rolling back one');
    expect(h.settled).toHaveLength(1);
    expect(h.settled[0]?.code).toBe('PIKO_ERR_STAGE_FAILED');
  });

  it('treats an optional stage failure as a warning: no rollback, success', async () => {
    const trail: string[] = [];
    const h = engineHarness(stagesPlugin('p', step('one', 1, trail), step('extra', 2, trail, { fail: true, optional: true }), step('two', 3, trail)));
    const complete = await h.engine.run(h.operation());
    expect(complete.success).toBe(true);
    expect(trail).toEqual(['run one', 'run extra', 'run two']);
    expect(h.messages.find((m) => m.type === 'stage' && m.state === 'end' && m.name === 'extra')).toMatchObject({
      ok: false,
      warning: expect.stringContaining('optional stage extra failed'),
    });
    expect(logs(h.messages).some((l) => l.startsWith('[piko/stderr] warning: optional stage extra failed') && l.includes('exited with code 7'))).toBe(true);
  });

  it('names the plugin and hook when a tap throws, and rolls back', async () => {
    const trail: string[] = [];
    const h = engineHarness(stagesPlugin('p', step('one', 1, trail), step('two', 2, trail)), {
      name: 'Broken',
      apply(engine) {
        engine.hooks.stageStart.tapPromise('BrokenPlugin', async (stage) => {
          if (stage.name === 'two') throw new Error('boom');
        });
      },
    });
    const complete = await h.engine.run(h.operation());
    expect(complete).toMatchObject({ success: false, code: 'PIKO_ERR_PLUGIN', error: 'plugin BrokenPlugin failed in hook stageStart: boom' });
    expect(trail).toEqual(['run one', 'undo one']);
  });

  it('fails cleanly when a log observer throws while a child is printing, and stops the child', async () => {
    const trail: string[] = [];
    // The child waits on a gate the test never opens: the run can only end by stopping it.
    const gate = gates();
    const pidFile = join(tempDir(), 'printer.pid');
    const h = engineHarness(
      stagesPlugin('p', step('one', 1, trail), {
        name: 'printer',
        order: 2,
        run: (ctx) => ctx.exec('sh', ['-c', `echo $$ > ${pidFile}; echo first; ${gate.wait()}; echo never`]).then(() => undefined),
      }),
      {
        name: 'Observer',
        apply(engine) {
          engine.hooks.message.tap('ObserverPlugin', (message) => {
            if (message.type === 'log' && message.data === 'first\n') throw new TypeError('cannot read it');
          });
        },
      },
    );
    const complete = await h.engine.run(h.operation());
    expect(complete).toMatchObject({ success: false, error: 'plugin ObserverPlugin failed in hook message: cannot read it' });
    expect(trail).toEqual(['run one', 'undo one']);
    await waitUntilGone(Number(await waitForFile(pidFile)), 'the printing child');
  });

  it('hands `output` the lines of a chunk as one batch and `message` each of them, numbered without a gap', async () => {
    const output: OutputMessage[] = [];
    const h = engineHarness(
      stagesPlugin('p', { name: 'printer', order: 1, run: async (ctx) => {
        // One write of three lines: one chunk.
        await ctx.exec('sh', ['-c', 'printf "a\\nb\\nc\\n"']);
        ctx.info('done');
      } }),
      { name: 'Batches', apply: (engine) => engine.hooks.output.tap('Batches', (message) => void output.push(message)) },
    );
    const operation = h.operation();
    expect((await h.engine.run(operation)).success).toBe(true);
    const batch = output.find((m): m is LogBatchMessage => m.type === 'logs');
    expect(batch).toMatchObject({ source: 'printer', stream: 'stdout', data: 'a\nb\nc\n', count: 3 });
    // `message` got each line of it, and every message of both hooks is numbered 0, 1, 2… in order.
    expect(logs(h.messages).slice(0, 3)).toEqual(['[printer/stdout] a', '[printer/stdout] b', '[printer/stdout] c']);
    expect(h.messages.map((m) => m.seq)).toEqual(h.messages.map((_, i) => i));
    expect(output.flatMap((m) => (m.type === 'logs' ? Array.from({ length: m.count }, (_, i) => m.seq + i) : [m.seq]))).toEqual(h.messages.map((m) => m.seq));
    // The operation log keeps the batch as it came; its readers get the lines back.
    expect(readFileSync(operation.log.path, 'utf8')).toContain(JSON.stringify(batch));
    expect(readOperationLog(operation.log.path)).toEqual(h.messages);
  });

  it('hands every tap the messages in seq order, when a tap emits one of its own meanwhile or throws', async () => {
    const seen: { hook: string; seq: number; data?: string }[] = [];
    const h = engineHarness(
      stagesPlugin('p', { name: 'printer', order: 1, run: (ctx) => ctx.exec('sh', ['-c', 'printf "ERROR a\\nb\\nc\\n"']).then(() => undefined) }),
      {
        name: 'Watcher',
        apply(engine) {
          engine.hooks.output.tap('Watcher', (message) => void seen.push({ hook: 'output', seq: message.seq }));
          engine.hooks.message.tap('Watcher', (message, operation) => {
            if (message.type !== 'log') return;
            seen.push({ hook: 'message', seq: message.seq, data: message.data });
            if (message.data === 'ERROR a\n') operation.info('piko', 'an error was printed');
            if (message.data === 'b\n') throw new Error('cannot read b');
          });
        },
      },
    );
    const complete = await h.engine.run(h.operation());
    expect(complete).toMatchObject({ success: false, error: 'plugin Watcher failed in hook message: cannot read b' });
    const lines = seen.filter((s) => s.hook === 'message');
    // The info came after the whole batch, and the line after the one that threw still came.
    expect(lines.slice(0, 4).map((s) => s.data)).toEqual(['ERROR a\n', 'b\n', 'c\n', 'an error was printed\n']);
    for (const hook of ['output', 'message']) {
      const seqs = seen.filter((s) => s.hook === hook).map((s) => s.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('skips a stage when the stage itself gives a reason', async () => {
    const trail: string[] = [];
    const h = engineHarness(stagesPlugin('p', step('one', 1, trail), { ...step('two', 2, trail), skip: () => 'not today' }));
    expect((await h.engine.run(h.operation())).success).toBe(true);
    expect(trail).toEqual(['run one']);
    expect(names(h.messages)).toEqual(['one:start', 'one:end:ok', 'two:skip']);
    expect(h.messages.find((m) => m.type === 'stage' && m.state === 'skip')).toMatchObject({ name: 'two', reason: 'not today' });
  });

  it('cancel kills the running command\'s whole process group and rolls back', async () => {
    const trail: string[] = [];
    const pidFile = join(tempDir(), 'background.pid');
    // The command waits on a gate the test never opens: the run can only end by stopping it.
    const gate = gates();
    const h = engineHarness(
      stagesPlugin('p', step('one', 1, trail), {
        name: 'slow',
        order: 2,
        run: (ctx) => ctx.exec('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; echo started; ${gate.wait()}; echo never`]).then(() => undefined),
      }),
    );
    const operation = h.operation();
    // Cancelled once the command runs, with its background sleep started.
    h.engine.hooks.message.tap('canceller', (message) => {
      if (message.type === 'log' && message.data === 'started\n') operation.cancel('a test');
    });
    const complete = await h.engine.run(operation);
    expect(complete).toMatchObject({ success: false, code: 'PIKO_ERR_CANCELLED', error: 'cancelled by a test' });
    expect(trail).toEqual(['run one', 'undo one']);
    expect(logs(h.messages)).not.toContain('[slow/stdout] never');
    // The background sleep was in the same process group: it is gone too.
    await waitUntilGone(Number(await waitForFile(pidFile)), 'the background sleep');
  });

  it('rejects unknown before/after targets and cycles', async () => {
    const trail: string[] = [];
    const unknown = engineHarness(stagesPlugin('p', step('one', 1, trail, { after: 'nothing' })));
    expect(await unknown.engine.run(unknown.operation())).toMatchObject({
      success: false,
      error: 'stage "one" refers to unknown stage "nothing" (stages: one)',
    });
    const cycle = engineHarness(stagesPlugin('p', step('a', 1, trail, { after: 'b' }), step('b', 2, trail, { after: 'a' })));
    expect(await cycle.engine.run(cycle.operation())).toMatchObject({ success: false, error: 'stages a, b form a cycle through before/after' });
    expect(trail).toEqual([]);
  });

  it('documents every hook in the README, with its tapable kind', () => {
    const h = engineHarness();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(\w+)` \| (\w+Hook) \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.entries(h.engine.hooks).map(([name, hook]) => [name, hook.constructor.name]));
  });

  it('keeps its hooks in one frozen object', () => {
    const h = engineHarness();
    expect(Object.isFrozen(h.engine.hooks)).toBe(true);
    expect(Object.keys(h.engine.hooks)).toEqual([
      'registerStages', 'stageStart', 'stageEnd', 'command', 'settle', 'output', 'message',
    ]);
  });

  it('fails the operation (and rolls back) when its log cannot be written, saying so in the live stream', async () => {
    const trail: string[] = [];
    const h = engineHarness(stagesPlugin('p', {
      ...step('slow', 1, trail),
      run: (ctx) => ctx.exec('sh', ['-c', 'echo started; sleep 30']).then(() => undefined),
    }));
    // A file where the logs folder should be: every write of the log fails (ENOTDIR or EEXIST).
    writeFileSync(join(h.home, 'logs'), '');
    const operation = h.operation();
    const complete = await h.engine.run(operation);
    expect(complete).toMatchObject({ success: false, code: 'PIKO_ERR_LOG_UNWRITABLE', error: expect.stringContaining(`the operation log ${operation.log.path} cannot be written (E`) });
    expect(trail).toEqual(['undo slow']);
    expect(logs(h.messages)).toContainEqual(expect.stringMatching(/^\[piko\/stderr\] warning: the operation log .* cannot be written .*only in this stream$/));
    expect(h.messages.at(-1)).toBe(complete);
  });

  it('never throws from a log on a full disk: it records why and stops writing', () => {
    const failures: string[] = [];
    const log = new OperationLog('/dev/full', (err) => failures.push(err.code!));
    for (let seq = 0; seq < 3; seq++) log.append({ type: 'log', source: 'piko', stream: 'stdout', data: 'line\n', seq });
    expect(() => log.flush()).not.toThrow();
    log.append({ type: 'log', source: 'piko', stream: 'stdout', data: 'more\n', seq: 3 });
    expect(() => log.close()).not.toThrow();
    expect(failures).toEqual(['ENOSPC']);
  });
});
