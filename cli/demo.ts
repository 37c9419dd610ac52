// `npm run demo`: a throwaway git repository with a .piko.yml whose setup script prints for a
// few seconds, a `piko server`, and the real `piko` command creating an environment through it
// (every line streamed as it is printed), listing it and destroying it. Everything lives in a
// temporary folder (PIKO_HOME too) and is removed at the end.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pc from 'picocolors';

const PIKO = fileURLToPath(new URL('./piko.js', import.meta.url));

const CONFIG = `# The demo project's piko configuration.
scripts:
  prepare: echo "copying .env.example to .env for $PIKO_ENV_NAME"
  setup: |
    echo "installing dependencies in $PIKO_ENV_PATH"
    for i in 1 2 3 4 5 6 7 8; do
      echo "  fetched package $i/8"
      sleep 0.4
    done
    printf 'linking   0%%\\r linking  50%%\\rlinking 100%%\\n'
    echo "npm WARN deprecated left-pad@1.0.0" >&2
    echo "ready on branch $PIKO_BRANCH, data in $PIKO_DATA_DIR"
  destroy: echo "dropping the $PIKO_ENV_NAME database"
`;

const work = mkdtempSync(join(tmpdir(), 'piko-demo-'));
const repo = join(work, 'demo-shop');
// Its own state, and its own tmux server, so nothing of yours is touched.
const env = { PIKO_HOME: join(work, 'piko-home'), PIKO_TMUX_SOCKET: `piko-demo-${process.pid}` };

async function sh(file: string, args: string[]): Promise<void> {
  await execa(file, args, { cwd: repo, env, stdio: 'inherit' });
}

async function piko(...args: string[]): Promise<void> {
  console.log(pc.bold(`\n$ piko ${args.join(' ')}`));
  await sh(process.execPath, [PIKO, ...args]);
}

async function demo(): Promise<void> {
  const server = execa(process.execPath, [PIKO, 'server', '--port', '0'], { cwd: work, env, buffer: false, reject: false });
  let serverLog = '';
  server.stdout.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));

  try {
    console.log(pc.bold(`A throwaway repository at ${repo}`));
    mkdirSync(repo, { recursive: true });
    await sh('git', ['init', '-q', '-b', 'main']);
    writeFileSync(join(repo, 'README.md'), '# demo shop\n');
    writeFileSync(join(repo, '.piko.yml'), CONFIG);
    await sh('git', ['add', '-A']);
    await sh('git', ['-c', 'user.name=piko demo', '-c', 'user.email=demo@example.com', 'commit', '-q', '-m', 'demo shop']);

    await piko('init');
    // Wait for the server to say where it listens; the CLI finds it through $PIKO_HOME/server.json.
    for (let i = 0; i < 100 && !serverLog.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
    console.log(pc.bold(`\n$ piko server --port 0   ${pc.dim('(in the background)')}`));
    console.log(serverLog.trim());

    // --no-attach: on a terminal, piko would otherwise attach to the environment's tmux session.
    await piko('create', 'feature-demo', '--no-attach');
    await piko('list');
    await piko('destroy', 'feature-demo', '--force');

    console.log(pc.bold('\nWhat the server printed meanwhile (access log, and every line it streamed):'));
    console.log(serverLog.trim().split('\n').slice(1).join('\n'));
    console.log(pc.bold('\nThat was all real: a git worktree, a data directory, scripts streamed line by line over a WebSocket.'));
  } catch (err) {
    console.error(pc.red(`demo failed: ${(err as Error).message}`));
    process.exitCode = 1;
  } finally {
    server.kill('SIGTERM');
    await server;
    await execa('tmux', ['-L', env.PIKO_TMUX_SOCKET, 'kill-server'], { reject: false });
    rmSync(work, { recursive: true, force: true });
  }
}

void demo();
