// Protocol messages → what a terminal shows. Shared by the stdout transport (local runs) and
// the network clients, so `piko create` looks the same whichever transport carried it.
import { createColors } from 'picocolors';
import { logText, sourceLabel, type CompleteMessage, type ServerMessage } from './protocol.js';

export interface MessageRenderer {
  render(message: ServerMessage): void;
}

export interface TerminalRendererOptions {
  write: (text: string) => void;
  /** Where a failure's summary goes (stderr for a terminal); defaults to `write`. */
  writeError?: (text: string) => void;
  color: boolean;
  /** The environment's name, for a `complete` that comes without an `accepted` (refused requests). */
  environment?: string;
  /** Where the full log of an operation can be read, shown after a failure. */
  logHint?: (operation: string) => string;
}

/**
 * Colour on a terminal only: never with NO_COLOR, always with FORCE_COLOR (other than 0), and
 * otherwise when `stream` is a TTY that is not `dumb`.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if ('NO_COLOR' in env) return false;
  if ('FORCE_COLOR' in env) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${Math.round((ms % 60_000) / 1000)}s`;
}

export class TerminalRenderer implements MessageRenderer {
  private readonly write: (text: string) => void;
  private readonly writeError: (text: string) => void;
  private readonly colors: ReturnType<typeof createColors>;
  private readonly logHint: ((operation: string) => string) | undefined;
  private environment: string | undefined;
  private action: string | undefined;

  constructor(options: TerminalRendererOptions) {
    this.write = options.write;
    this.writeError = options.writeError ?? options.write;
    this.colors = createColors(options.color);
    this.logHint = options.logHint;
    this.environment = options.environment;
  }

  render(message: ServerMessage): void {
    switch (message.type) {
      case 'accepted':
        this.environment = message.environment;
        this.action = message.action;
        return;
      case 'stage':
        return;
      case 'log': {
        const text = logText(message);
        const line = `[${sourceLabel(message.source)}] ${text.endsWith('\n') ? text.slice(0, -1) : text}`;
        this.write(`${message.stream === 'stderr' ? this.colors.yellow(line) : line}\n`);
        return;
      }
      case 'complete':
        (message.success ? this.write : this.writeError)(this.summary(message));
        return;
      case 'dropped':
        this.writeError(
          this.colors.yellow(
            `[piko] ${message.count} log line${message.count === 1 ? ' was' : 's were'} not shown: this terminal fell behind (\`piko logs ${message.operation}\` has them all)\n`,
          ),
        );
        return;
      default: {
        const unknown: never = message;
        return unknown;
      }
    }
  }

  private summary(message: CompleteMessage): string {
    const c = this.colors;
    const name = this.environment ?? 'environment';
    const took = message.durationMs === undefined ? '' : ` in ${formatDuration(message.durationMs)}`;
    if (message.success) {
      const env = message.environment;
      if (this.action === 'destroy' || env.status === 'destroyed') return `${c.green('✓')} ${env.name} destroyed${took}\n`;
      return `${c.green('✓')} ${env.name} ready (${env.mode}, ${env.status})${took}\n`;
    }
    const lines: string[] = [];
    if (message.stage !== undefined) {
      const exit = message.exitCode === undefined ? '' : ` (exit ${message.exitCode})`;
      lines.push(`${c.red('✗')} ${name} failed at ${message.stage}${exit}${took}`, `  ${message.error}`);
    } else {
      lines.push(`${c.red('✗')} ${name}: ${message.error}`);
    }
    if (message.hint) lines.push(c.dim(`  ${message.hint}`));
    if (message.operation && this.logHint) lines.push(c.dim(`  full log: ${this.logHint(message.operation)}`));
    return `${lines.join('\n')}\n`;
  }
}

/** `--json`: every protocol message as one line of JSON, nothing else. */
export class JsonRenderer implements MessageRenderer {
  constructor(private readonly write: (text: string) => void) {}

  render(message: ServerMessage): void {
    this.write(`${JSON.stringify(message)}\n`);
  }
}
