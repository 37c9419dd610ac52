// `piko server`: run the server in the foreground until SIGINT or SIGTERM.
import { PikoError } from '../../core/errors.js';
import { killRunningCommands } from '../../core/engine/exec.js';
import { pikoHome } from '../../core/paths.js';
import { ExitError } from '../exit.js';
import { isLoopback } from '../server/addresses.js';
import { PikoServer } from '../server/host.js';
import { serverOutput } from '../server/log.js';
import { noteText } from '../terminal/say.js';

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new PikoError('PIKO_ERR_USAGE', `${name} must be a whole number, got ${JSON.stringify(text)}`);
  return value;
}

export async function server(options: { port: string; host: string }, version: string): Promise<void> {
  const port = number('--port', options.port, 0);
  if (port > 65535) throw new PikoError('PIKO_ERR_USAGE', `--port must be at most 65535, got ${port}`);
  const home = pikoHome();
  const out = serverOutput();
  const instance = new PikoServer({
    home,
    host: options.host,
    port,
    output: out,
    version,
    pingIntervalMs: number('PIKO_PING_INTERVAL_MS', process.env.PIKO_PING_INTERVAL_MS, 30_000),
    shutdownTimeoutMs: number('PIKO_SHUTDOWN_TIMEOUT_MS', process.env.PIKO_SHUTDOWN_TIMEOUT_MS, 30_000),
    headersTimeoutMs: number('PIKO_HEADERS_TIMEOUT_MS', process.env.PIKO_HEADERS_TIMEOUT_MS, 10_000),
    maxConnections: number('PIKO_MAX_CONNECTIONS', process.env.PIKO_MAX_CONNECTIONS, 128),
  });
  if (!isLoopback(options.host)) {
    process.stderr.write(
      noteText(`warning: listening on ${options.host}, not just this machine: anyone who can reach it and has the token can run this project's scripts here`),
    );
  }
  const info = await instance.start();
  out.write(`piko server listening on ${info.url} (pid ${info.pid}, PIKO_HOME ${home})\n`);
  out.flush();
  // Resolves once the server has stopped; a second signal leaves at once instead.
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        // Leaving at once must not leave the running stages' commands behind.
        killRunningCommands();
        process.stderr.write(noteText('stopped without waiting: the operations that were running failed; `piko destroy --force` cleans up after them'));
        reject(new ExitError(1, true));
        return;
      }
      stopping = true;
      out.write(`${signal}: shutting down\n`);
      void instance.stop().then(() => {
        out.write('stopped\n');
        out.flush();
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
