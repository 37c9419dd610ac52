// The dashboard against a terminal: a create whose setup prints 400,000 lines, started from the
// dashboard's page in Chromium (its create dialog) and timed in the page until the page shows the
// output's last line (the `✓ flood ready …` line); against `piko create` of the same
// environment in a terminal (`script -qfec`: the CLI writes to a pty, as in a terminal, and its
// output is read from script's stdout) timed until the terminal is handed that line. Both go
// through the same running server, runs interleaved. While the page streams, it must stay
// responsive: the longest round trip of `page.evaluate(() => …)` (asked one after another, all
// the while), the longest gap between two animation frames, and the lines the DOM holds at the
// end, as detail; and how many of the lines reached the page at all (the server drops lines for
// a client that falls behind, and the panel says so).
import { accessSync, constants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { env, median, ms, piko, PIKO, repo, row, RUNS, spread, startServer, stopServer } from './harness.js';

const LINE = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu';
const LINES = 400_000;
const FLOOD = `awk 'BEGIN { for (i = 0; i < ${LINES}; i++) printf "%07d %s\\n", i, "${LINE}" }'`;
/** The output's last line, as both print it (after the ✓, in its colour in a terminal). */
const DONE = ' flood ready (';
const CHROMIUM = process.env.PIKO_BENCH_CHROMIUM ?? '/usr/bin/chromium';
/** A full-HD desktop window: the panel is wide enough for the 80-byte lines. */
const VIEWPORT = { width: 1920, height: 1080 };
/** As the browser tests run it (test/helpers/browser.ts): root, no GPU, no network of its own. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the page holds as a global for this measure (the bench's TypeScript has no DOM types). */
interface Probe {
  t0?: number;
  t1?: number;
  maxGap: number;
}

interface PageRun {
  ms: number;
  maxRoundTrip: number;
  roundTrips: number;
  maxFrameGap: number;
  /** `.ln` lines in the log's DOM at the end. */
  domLines: number;
  /** What the panel says did not reach it. */
  dropped: number;
  /** Whether the log itself ended on the ✓ line (it followed its end). */
  followed: boolean;
}

interface PageGlobals {
  piko: Probe;
  document: {
    body: unknown;
    querySelector(selector: string): { textContent: string | null; click(): void; lastElementChild: { textContent: string | null } | null } | null;
    querySelectorAll(selector: string): { length: number };
  };
  performance: { now(): number };
  requestAnimationFrame(callback: (time: number) => void): void;
  MutationObserver: new (callback: (records: { addedNodes: ArrayLike<{ textContent: string | null }> }[]) => void) => { observe(node: unknown, options: object): void; disconnect(): void };
}

/** One create from the page, timed in the page: from the click on Create to the ✓ line in the DOM. */
async function fromPage(page: Page, project: string): Promise<PageRun> {
  await page.waitForSelector('[data-testid="connection"][data-state="live"]');
  await page.click(`[data-testid="project"][data-project="${project}"] [data-testid="create"]`);
  await page.fill('[data-testid="create-name"]', 'flood');
  await page.waitForSelector('[data-testid="create-branch"]:not([disabled])');
  await page.evaluate((done: string) => {
    const g = globalThis as unknown as PageGlobals;
    const probe: Probe = { maxGap: 0 };
    g.piko = probe;
    // The first element added with the ✓ line (in the log, or the result under it) is when the
    // page shows it: this frame paints it.
    const observer = new g.MutationObserver((records) => {
      for (const record of records) {
        for (let i = 0; i < record.addedNodes.length; i++) {
          if (record.addedNodes[i]!.textContent?.startsWith(`✓${done}`)) {
            probe.t1 = g.performance.now();
            observer.disconnect();
            return;
          }
        }
      }
    });
    observer.observe(g.document.body, { childList: true, subtree: true });
    let previous: number | undefined;
    const frame = (t: number): void => {
      if (previous !== undefined) probe.maxGap = Math.max(probe.maxGap, t - previous);
      previous = t;
      if (probe.t1 === undefined) g.requestAnimationFrame(frame);
    };
    g.requestAnimationFrame(frame);
    probe.t0 = g.performance.now();
    g.document.querySelector('[data-testid="create-submit"]')!.click();
  }, DONE);
  // Round trips one after another until the page has shown the last line: each is how long the
  // tab took to answer.
  let maxRoundTrip = 0;
  let roundTrips = 0;
  for (;;) {
    const asked = performance.now();
    const shown = await page.evaluate(() => (globalThis as unknown as PageGlobals).piko.t1 !== undefined);
    maxRoundTrip = Math.max(maxRoundTrip, performance.now() - asked);
    roundTrips++;
    if (shown) break;
  }
  await page.waitForSelector('[data-testid="session"][data-phase="succeeded"]');
  // The line count catches up with the last of what came in a frame or so after the ✓ line.
  await page.waitForFunction((done: string) => {
    const g = globalThis as unknown as PageGlobals;
    return g.document.querySelector('[data-testid="result"]')?.textContent?.includes(done) && /^[\d,]+ lines/.test(g.document.querySelector('[data-testid="line-count"]')?.textContent ?? '');
  }, DONE);
  const seen = await page.evaluate((done: string) => {
    const g = globalThis as unknown as PageGlobals;
    const text = (selector: string): string => g.document.querySelector(selector)?.textContent ?? '';
    return {
      ms: g.piko.t1! - g.piko.t0!,
      maxGap: g.piko.maxGap,
      domLines: g.document.querySelectorAll('[data-testid="log"] .ln').length,
      result: text('[data-testid="result"]'),
      followed: (g.document.querySelector('[data-testid="log"]')?.lastElementChild?.textContent ?? '').startsWith(`✓${done}`),
    };
  }, DONE);
  const number = (match: RegExpExecArray | null): number => (match ? Number(match[1]!.replace(/,/g, '')) : 0);
  return {
    ms: seen.ms,
    maxRoundTrip,
    roundTrips,
    maxFrameGap: seen.maxGap,
    domLines: seen.domLines,
    dropped: number(/([\d,]+) lines did not reach this page/.exec(seen.result)),
    followed: seen.followed,
  };
}

/**
 * The same create in a terminal: `script` gives the CLI a pty; timed until the ✓ line comes out
 * of it. A terminal that falls behind is not sent every line either (the CLI says how many it
 * did not show): the setup lines it did show are counted.
 */
async function fromTerminal(dir: string): Promise<{ ms: number; lines: number }> {
  // A terminal has colour: NO_COLOR set but empty is no NO_COLOR (cli/terminal/say.ts).
  const started = performance.now();
  const child = execa('script', ['-qfec', `node ${PIKO} create flood --no-attach`, '/dev/null'], { cwd: dir, env: { ...env, NO_COLOR: '' }, buffer: false, reject: false, stdin: 'ignore' });
  let tail = '';
  let doneAt: number | undefined;
  let setupLines = 0;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const text = tail + chunk;
    if (doneAt === undefined && text.includes(DONE)) doneAt = performance.now();
    // `[setup]` lines, counted across chunk boundaries (the tail is shorter than the marker).
    setupLines += text.split('[setup]').length - 1;
    tail = text.slice(-6);
  });
  const exit = await child;
  if (exit.exitCode !== 0 || doneAt === undefined) throw new Error(`the terminal's create failed (${exit.exitCode}) or never printed its ✓ line`);
  return { ms: doneAt - started, lines: setupLines };
}

export async function dashboard(): Promise<void> {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    row('dashboard: 400k-line create, page / terminal', 'skipped', '≤ 1.2', undefined, `no Chromium at ${CHROMIUM} (PIKO_BENCH_CHROMIUM names another; .ci/ensure-tools installs Debian's)`);
    return;
  }
  const dir = await repo('dashboard', FLOOD);
  const server = await startServer();
  let browser: Browser | undefined;
  const page: PageRun[] = [];
  const terminal: { ms: number; lines: number }[] = [];
  try {
    const link = (await piko(['ui'], dir, { PIKO_UI_NO_OPEN: '1' })).stdout.trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: VIEWPORT });
    const signIn = await context.newPage();
    await signIn.goto(link);
    await signIn.close();
    const runs = Math.max(RUNS, 5);
    for (let run = 0; run < runs; run++) {
      // Which goes first alternates, so neither always follows the other's destroy.
      for (const side of run % 2 ? ['terminal', 'page'] : ['page', 'terminal']) {
        if (side === 'page') {
          // A new tab each run: the page keeps every operation's output it followed.
          const tab = await context.newPage();
          await tab.goto(`${server.url}/`);
          page.push(await fromPage(tab, 'dashboard'));
          await tab.close();
        } else {
          terminal.push(await fromTerminal(dir));
        }
        const destroyed = await piko(['destroy', 'flood', '--force'], dir);
        if (destroyed.exitCode !== 0) throw new Error(`destroy: ${destroyed.stderr}`);
      }
    }
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  const pageMs = page.map((p) => p.ms);
  const terminalMs = terminal.map((t) => t.ms);
  const ratios = pageMs.map((t, i) => t / terminalMs[i]!);
  row(
    'dashboard: 400k-line create, page / terminal',
    `${median(ratios).toFixed(2)}×`,
    '≤ 1.2',
    median(ratios) <= 1.2,
    `to the output's last line (✓) shown: the page in Chromium at ${VIEWPORT.width}×${VIEWPORT.height} (from the click on Create; in-page clock) ${ms(median(pageMs))}, \`piko create\` under \`script -qfec\` (a pty) ${ms(median(terminalMs))}, both through one server; ratios ${spread(ratios, 2)}. Each shows what it keeps up with (the server drops lines for a client that falls behind, and each says how many): setup lines shown by the page ${spread(page.map((p) => LINES - p.dropped))}, by the terminal ${spread(terminal.map((t) => t.lines))}, of 400,000`,
  );
  const roundTrip = page.map((p) => p.maxRoundTrip);
  const gaps = page.map((p) => p.maxFrameGap);
  row(
    'dashboard: the tab while those lines stream',
    `longest evaluate round trip ${ms(median(roundTrip))}`,
    '',
    undefined,
    `median of each run's longest (${spread(roundTrip)} ms) over ${median(page.map((p) => p.roundTrips))} round trips a run; longest gap between two frames ${ms(median(gaps))} (${spread(gaps)} ms); DOM lines at the end ${[...new Set(page.map((p) => p.domLines))].join(', ')}; the log followed its end in ${page.filter((p) => p.followed).length} of ${page.length} runs`,
  );
}
