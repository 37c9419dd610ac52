// Transports carry an operation's messages to the user. Each is registered by a plugin through
// the engine's `registerTransports` hook, the built-in ones (websocket, sse, stdout) exactly
// like one a team adds, and a command picks one by name.
import type { PikoConfig } from './config.js';
import type { PikoPlugin } from './engine.js';
import { PikoError } from './errors.js';
import type { OperationRequest, ServerMessage } from './protocol.js';

export interface DeliveryContext {
  request: OperationRequest;
  config: PikoConfig;
  home: string;
  /** Shows one message the way the user asked for (text or `--json`). */
  render(message: ServerMessage): void;
  /** A line of piko's own on stderr. */
  say(text: string): void;
  /**
   * Runs the operation in this process, every message rendered; `plugins` are applied to its
   * engine too (to tap its messages, say). Resolves with the exit code.
   */
  runHere(plugins?: PikoPlugin[]): Promise<number>;
}

export interface Transport {
  name: string;
  description: string;
  /**
   * Carries the operation to the user and resolves with the exit code, or with undefined when
   * it cannot be used (no server answers): the operation then runs here instead.
   */
  deliver(context: DeliveryContext): Promise<number | undefined>;
}

export class TransportRegistry {
  private readonly transports = new Map<string, Transport>();

  add(transport: Transport): void {
    if (this.transports.has(transport.name)) {
      throw new PikoError('PIKO_ERR_PLUGIN', `two transports are named ${JSON.stringify(transport.name)}`);
    }
    this.transports.set(transport.name, transport);
  }

  get(name: string): Transport {
    const transport = this.transports.get(name);
    if (!transport) {
      throw new PikoError('PIKO_ERR_CONFIG_INVALID', `no transport named ${JSON.stringify(name)} (transports: ${this.names().join(', ')})`);
    }
    return transport;
  }

  names(): string[] {
    return [...this.transports.keys()];
  }
}
