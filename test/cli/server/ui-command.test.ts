// `piko ui`: a sign-in link from the running server, or from one it starts in the background,
// opened with the desktop's opener (a stand-in here that records what it was given) or printed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanup, initProject, isRunning, sandbox, tempDir, waitForFile, waitUntilGone } from '../../helpers/fixtures.js';
import { startServer, stopServers } from '../../helpers/server.js';
import { raw, signedFrom } from './dashboard-helpers.js';

/** Servers `piko ui` started: not children of the test, so stopped by pid. */
const started: number[] = [];

afterEach(async () => {
  for (const pid of started.splice(0)) {
    if (!isRunning(pid)) continue;
    process.kill(pid, 'SIGTERM');
    await waitUntilGone(pid, `the server piko ui started (pid ${pid})`);
  }
  await stopServers();
  cleanup();
});

/** A stand-in xdg-open (and open) that writes the URL it was given to a file. */
function stubOpener(): { bin: string; opened: string } {
  const bin = tempDir('piko-opener-');
  const opened = join(bin, 'opened.txt');
  for (const name of ['xdg-open', 'open']) {
    writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s\\n' "$1" > ${JSON.stringify(opened)}\n`, { mode: 0o755 });
  }
  return { bin, opened };
}

/** Signs in with `link`: the session it gives (cookie and key), checked against the server. */
async function signsIn(link: string): Promise<void> {
  const url = new URL(link);
  const signed = signedFrom(await raw({ url: url.origin }, url.pathname + url.search));
  expect((await raw({ url: url.origin }, '/api/overview', { headers: { ...signed } })).status).toBe(200);
}

describe('piko ui', () => {
  it('starts a server in the background when none runs, and opens a link that signs in', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const opener = stubOpener();
    const result = await box.piko(['ui', '--port', '0'], repo, { PATH: `${opener.bin}:${box.env.PATH}` });
    const info = JSON.parse(readFileSync(join(box.home, 'server.json'), 'utf8')) as { url: string; pid: number };
    started.push(info.pid);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`[piko] started a piko server in the background (pid ${info.pid}, ${info.url}); its output goes to ${join(box.home, 'server.log')}; stop it with \`kill ${info.pid}\``);
    expect(result.stderr).toMatch(/opening the dashboard with (xdg-)?open/);
    const link = result.stdout.trim();
    expect(link).toMatch(new RegExp(`^${info.url.replace(/[.]/g, '\\.')}/ui/login\\?code=[0-9a-f]{32}$`));
    expect((await waitForFile(opener.opened)).trim()).toBe(link);
    await signsIn(link);
    expect(readFileSync(join(box.home, 'server.log'), 'utf8')).toMatch(/piko server listening on/);
    // Its output goes to the log, not to a terminal piko ui has left.
    process.kill(info.pid, 'SIGTERM');
    await waitUntilGone(info.pid, 'the server piko ui started');
    expect(existsSync(join(box.home, 'server.json'))).toBe(false);
  });

  it('uses the server that runs, and with --no-open only prints the link', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const opener = stubOpener();
    const result = await box.piko(['ui', '--no-open'], repo, { PATH: `${opener.bin}:${box.env.PATH}` });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toContain('started a piko server');
    expect(result.stderr).toMatch(/open this link in your browser: it signs you in to the dashboard once, within \d+s/);
    const link = result.stdout.trim();
    expect(link.startsWith(`${server.url}/ui/login?code=`)).toBe(true);
    await signsIn(link);
    // piko ui has exited: an opener it had started would have been spawned by now.
    expect(existsSync(opener.opened)).toBe(false);
    expect(JSON.parse(readFileSync(join(box.home, 'server.json'), 'utf8')).pid).toBe(server.pid);
  });

  it('prints the link when there is nothing to open it with', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const server = await startServer(box);
    const result = await box.piko(['ui'], repo, { PIKO_UI_NO_OPEN: '1' });
    expect(result.exitCode).toBe(0);
    await signsIn(result.stdout.trim());
    expect(result.stdout.trim().startsWith(server.url)).toBe(true);
  });

  it('opens only a link it made itself from the code, whatever address the server names', async () => {
    const box = sandbox();
    const repo = await initProject(box);
    const opener = stubOpener();
    // A server (PIKO_SERVER_URL may name any) that answers with an address of its choosing, and
    // then with a code that is not one.
    const answers = [{ code: 'f'.repeat(32), url: 'file:///etc/passwd', expiresAt: new Date(Date.now() + 60_000).toISOString() }, { code: '-a Terminal', url: 'x', expiresAt: 'x' }];
    const fake = createServer((req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/api/ui/codes' ? answers.shift() : {}));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const env = { PATH: `${opener.bin}:${process.env.PATH}`, PIKO_SERVER_URL: url, PIKO_TOKEN: 't' };
      const first = await box.piko(['ui'], repo, env);
      expect(first.exitCode).toBe(0);
      expect(readFileSync(opener.opened, 'utf8').trim()).toBe(`${url}/ui/login?code=${'f'.repeat(32)}`);
      const second = await box.piko(['ui'], repo, env);
      expect(second.exitCode).not.toBe(0);
      expect(second.stderr).toContain(`the piko server at ${url} would not make a sign-in link`);
      expect(readFileSync(opener.opened, 'utf8').trim()).toBe(`${url}/ui/login?code=${'f'.repeat(32)}`);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
