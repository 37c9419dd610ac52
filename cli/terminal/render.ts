// Protocol messages → what a terminal shows. Shared by the stdout transport (local runs) and
// the network clients, so `piko create` looks the same whichever transport carried it.
import { createColors } from 'picocolors';
import { publishedPorts } from '../../core/environment/vars.js';
import type { CompleteMessage, MessageRenderer, ServerMessage } from '../../core/protocol/messages.js';
import { expandBatch } from '../../core/protocol/batch.js';
import { cleanLine, withoutNewline } from '../../core/display/clean-line.js';
import { base64Binary, formatDuration, latin1Bytes, prefixedLines, sourceLabel } from '../../core/display/log-lines.js';


/**
 * Node's Buffer where there is one (the browser page renders with this class too): what a line
 * that is not UTF-8 has always been written as, and a Buffer joined to a string reads as its text.
 */
const NodeBuffer = (globalThis as unknown as { Buffer?: { from(data: ArrayBufferLike, offset: number, length: number): Uint8Array } }).Buffer;
const asBytes = (bytes: Uint8Array): Uint8Array => (NodeBuffer ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);

export interface TerminalRendererOptions {
  /** Text, or bytes for lines that are not UTF-8 (written as the command printed them). */
  write: (text: string | Uint8Array) => void;
  /** Where a failure's summary goes (stderr for a terminal); defaults to `write`. */
  writeError?: (text: string) => void;
  color: boolean;
  /** Only the final line and errors. */
  quiet?: boolean;
  /** The environment's name, for a `complete` that comes without an `accepted` (refused requests). */
  environment?: string;
  /** The command that shows an operation's whole log, offered after a failure or dropped lines. */
  logsCommand?: (operation: string) => string;
  /** When the operation started (epoch ms), when it started before this renderer saw it: a re-attach. */
  startedAt?: number | undefined;
}

interface StageRecord {
  name: string;
  state: 'running' | 'ok' | 'failed' | 'skipped';
  started: number;
  durationMs?: number;
}

export class TerminalRenderer implements MessageRenderer {
  private readonly write: (text: string | Uint8Array) => void;
  private readonly writeError: (text: string) => void;
  private readonly colors: ReturnType<typeof createColors>;
  private readonly palette: ((text: string) => string)[];
  private readonly sourceColours = new Map<string, (text: string) => string>();
  private readonly options: TerminalRendererOptions;
  private environment: string | undefined;
  private action: string | undefined;
  private started = Date.now();
  private readonly stages: StageRecord[] = [];

  constructor(options: TerminalRendererOptions) {
    this.options = options;
    this.write = options.write;
    this.writeError = options.writeError ?? options.write;
    this.colors = createColors(options.color);
    const c = this.colors;
    this.palette = [c.cyan, c.magenta, c.blue, c.green, c.cyanBright, c.magentaBright, c.blueBright, c.greenBright];
    this.environment = options.environment;
  }

  /**
   * Each source of the operation its own colour, in the order they first print (so the same
   * operation looks the same every time); only past eight sources do colours come round again.
   */
  private sourceColor(label: string): (text: string) => string {
    let colour = this.sourceColours.get(label);
    if (!colour) {
      colour = this.palette[this.sourceColours.size % this.palette.length]!;
      this.sourceColours.set(label, colour);
    }
    return colour;
  }

  /** The live status line's text while a stage runs (for a terminal's bottom line). */
  readonly status = (): string | undefined => {
    const stage = this.stages.at(-1);
    if (stage?.state !== 'running') return undefined;
    const now = Date.now();
    return `${sourceLabel(stage.name)}  ${formatDuration(now - stage.started)}   ${this.action ?? ''} ${this.environment ?? ''} ${formatDuration(now - this.started)}`;
  };

  render(message: ServerMessage): void {
    const c = this.colors;
    switch (message.type) {
      case 'accepted':
        this.environment = message.environment;
        this.action = message.action;
        this.started = this.options.startedAt ?? Date.now();
        return;
      case 'stage':
        if (message.state === 'start') {
          this.stages.push({ name: message.name, state: 'running', started: Date.now() });
        } else {
          const record = this.stages.find((s) => s.name === message.name && s.state === 'running');
          if (message.state === 'skip') this.stages.push({ name: message.name, state: 'skipped', started: Date.now() });
          else if (record) Object.assign(record, { state: message.ok ? 'ok' : 'failed', durationMs: message.durationMs });
        }
        return;
      case 'log':
      case 'logs': {
        if (this.options.quiet) return;
        const label = sourceLabel(message.source);
        const prefix = `${this.sourceColor(label)(`[${label}]`)} `;
        if (message.type === 'log' && message.encoding === 'base64') {
          // Not UTF-8: the bytes as the command printed them (a latin1 string maps each byte to
          // one character and back, so cleaning and colouring leave the rest untouched).
          // One write, like every line: a writer may flush between two (see turn-writer.ts).
          const bytes = base64Binary(message.data);
          const head = new TextEncoder().encode(prefix);
          const tail = latin1Bytes(`${this.shown(withoutNewline(bytes), message.stream, true)}\n`);
          const line = new Uint8Array(head.length + tail.length);
          line.set(head);
          line.set(tail, head.length);
          this.write(asBytes(line));
          return;
        }
        this.write(prefixedLines(message, prefix, (line) => this.shown(line, message.stream), message.stream === 'stderr').text);
        return;
      }
      case 'complete':
        if (!this.options.quiet) this.write(this.stageSummary());
        (message.success ? this.write : this.writeError)(this.summary(message));
        return;
      case 'dropped': {
        if (this.options.quiet) return;
        const see = this.options.logsCommand?.(message.operation) ?? `piko logs ${message.operation}`;
        this.writeError(
          c.yellow(
            `[piko] ${message.count} log line${message.count === 1 ? ' was' : 's were'} not shown here: this terminal fell behind (\`${see}\` shows them all)\n`,
          ),
        );
        return;
      }
      default: {
        const unknown: never = message;
        return unknown;
      }
    }
  }

  /** A line as this terminal or reader should see it; stderr's in yellow. */
  private shown(line: string, stream: 'stdout' | 'stderr', bytes = false): string {
    const text = cleanLine(line, this.options.color, bytes);
    return stream === 'stderr' ? this.colors.yellow(text) : text;
  }

  /** `  git 20ms · docker 2.3s · setup 11.4s`: each stage that ran, and how long it took. */
  private stageSummary(): string {
    const ran = this.stages.filter((s) => s.state !== 'skipped');
    if (ran.length === 0) return '';
    const parts = ran.map(
      (s) => `${sourceLabel(s.name)} ${s.durationMs === undefined ? '…' : formatDuration(s.durationMs)}${s.state === 'failed' ? ' ✗' : ''}`,
    );
    return `${this.colors.dim(`  ${parts.join(' · ')}`)}\n`;
  }

  private summary(message: CompleteMessage): string {
    const c = this.colors;
    const name = this.environment ?? 'environment';
    const took = message.durationMs === undefined ? '' : ` in ${formatDuration(message.durationMs)}`;
    if (message.success) {
      const env = message.environment;
      if (this.action === 'destroy' || env.status === 'destroyed') return `${c.green('✓')} ${env.name} destroyed${took}\n`;
      const verb = ({ up: 'started', down: 'stopped', restart: 'restarted' } as Record<string, string>)[this.action ?? ''] ?? 'ready';
      if (verb !== 'ready') return `${c.green('✓')} ${env.name} ${verb} (${env.mode}, ${env.status})${took}\n`;
      const ports = env.ports.map((p) => `${p.service} ${p.containerPort} → localhost:${publishedPorts(p)}`).join(', ');
      return `${c.green('✓')} ${env.name} ready (${env.mode}, ${env.status})${took}\n${ports ? c.dim(`  ports: ${ports}\n`) : ''}`;
    }
    const lines: string[] = [];
    if (message.code === 'PIKO_ERR_CANCELLED') {
      // Someone asked for it: not a failure of the stage it was in.
      lines.push(`${c.yellow('✗')} ${name} cancelled${message.stage === undefined ? '' : ` during ${message.stage}`}${took}`, `  ${message.error}`);
    } else if (message.stage !== undefined) {
      const exit = message.exitCode === undefined ? '' : ` (exit ${message.exitCode})`;
      lines.push(`${c.red('✗')} ${name} failed at ${message.stage}${exit}${took}`, `  ${message.error}`);
    } else {
      lines.push(`${c.red('✗')} ${name}: ${message.error}`);
    }
    if (message.hint) lines.push(c.dim(`  ${message.hint}`));
    if (message.operation && this.options.logsCommand) {
      lines.push(c.dim(`  the whole log: ${this.options.logsCommand(message.operation)}`));
    }
    return `${lines.join('\n')}\n`;
  }
}


/** `--json`: every protocol message as one line of JSON, nothing else. */
export class JsonRenderer implements MessageRenderer {
  constructor(private readonly write: (text: string) => void) {}

  render(message: ServerMessage): void {
    // Batches go out as the `log` messages they stand for: --json shows the canonical form.
    const messages = message.type === 'logs' ? expandBatch(message) : [message];
    this.write(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }
}
