// The stdout transport: the local path. It renders every message of the engine's operations
// straight to the terminal; it never sees a child process, only protocol messages.
import type { Engine, PikoPlugin } from '../core/engine/engine.js';
import type { MessageRenderer } from '../core/protocol/messages.js';

const PLUGIN_NAME = 'StdoutTransport';

export class StdoutTransport implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  constructor(private readonly renderer: MessageRenderer) {}

  apply(engine: Engine): void {
    engine.hooks.output.tap(PLUGIN_NAME, (message) => this.renderer.render(message));
  }
}
