// Deliveries: how the CLI carries an operation to the user, one per transport name the user can
// pick (`--transport`, `transport:`): the built-in ones (websocket, sse, stdout) and those a
// project's plugins offer (`deliveries: [...]` beside `apply`). Client-side only: the engine and
// the server's channels (transports/) know nothing of them.
import type { PikoConfig } from '../../core/config/config.js';
import type { PikoPlugin } from '../../core/engine/engine.js';
import { PikoError } from '../../core/errors.js';
import type { ServerMessage } from '../../core/protocol/messages.js';
import type { OperationRequest } from '../../core/protocol/requests.js';

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

export interface Delivery {
  /** The transport name the user picks it by. */
  name: string;
  description: string;
  /**
   * Carries the operation to the user and resolves with the exit code, or with undefined when
   * it cannot be used (no server answers): the operation then runs here instead.
   */
  deliver(context: DeliveryContext): Promise<number | undefined>;
}

/** A plugin that offers deliveries as well as (or instead of) tapping the engine. */
export interface DeliveryPlugin extends PikoPlugin {
  deliveries?: readonly Delivery[];
}

export class DeliveryRegistry {
  private readonly deliveries = new Map<string, Delivery>();

  add(delivery: Delivery): void {
    if (this.deliveries.has(delivery.name)) {
      throw new PikoError('PIKO_ERR_PLUGIN', `two transports are named ${JSON.stringify(delivery.name)}`);
    }
    this.deliveries.set(delivery.name, delivery);
  }

  get(name: string): Delivery {
    const delivery = this.deliveries.get(name);
    if (!delivery) {
      throw new PikoError('PIKO_ERR_CONFIG_INVALID', `no transport named ${JSON.stringify(name)} (transports: ${this.names().join(', ')})`);
    }
    return delivery;
  }

  /** The transport names there are. */
  names(): string[] {
    return [...this.deliveries.keys()];
  }
}

/** The built-in deliveries, then every one the plugins offer; two of one name are an error. */
export function deliveryRegistry(builtins: readonly Delivery[], plugins: readonly DeliveryPlugin[]): DeliveryRegistry {
  const registry = new DeliveryRegistry();
  for (const delivery of builtins) registry.add(delivery);
  for (const plugin of plugins) for (const delivery of plugin.deliveries ?? []) registry.add(delivery);
  return registry;
}
