// How the CLI carries an operation to the user: a transport by name, from the built-in ones
// (websocket, sse, stdout) and those a project's plugins offer (`transports: [...]` beside
// `apply`). Client-side only: the engine knows nothing of them.
import type { PikoConfig } from '../../core/config/config.js';
import type { PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import type { OperationRequest, ServerMessage } from '../../core/protocol/messages.js';

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

/** A plugin that offers transports as well as (or instead of) tapping the engine. */
export interface TransportPlugin extends PikoPlugin {
  transports?: readonly Transport[];
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

/** The built-in transports, then every one the plugins offer; two of one name are an error. */
export function transportRegistry(builtins: readonly Transport[], plugins: readonly TransportPlugin[]): TransportRegistry {
  const registry = new TransportRegistry();
  for (const transport of builtins) registry.add(transport);
  for (const plugin of plugins) for (const transport of plugin.transports ?? []) registry.add(transport);
  return registry;
}
