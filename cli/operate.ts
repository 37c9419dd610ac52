// Runs a create or destroy and shows it as it happens. In this version every operation runs
// in this process, with the stdout transport.
import pc from 'picocolors';
import { Engine } from '../core/engine.js';
import { prepareOperation, rejection } from '../core/operations.js';
import { CoalescingWriter } from '../core/output.js';
import { operationLogPath } from '../core/paths.js';
import type { OperationRequest } from '../core/protocol.js';
import { JsonRenderer, TerminalRenderer } from '../core/render.js';
import { builtinStagePlugins } from '../stages/index.js';
import { StdoutTransport } from '../transports/stdout.js';
import { ExitError, openState } from './context.js';

export interface OperateOptions {
  json?: boolean;
}

export async function operate(request: OperationRequest, options: OperateOptions): Promise<void> {
  const { home, state } = openState();
  const out = new CoalescingWriter(process.stdout);
  const renderer = options.json
    ? new JsonRenderer(out.write)
    : new TerminalRenderer({
        write: out.write,
        writeError: (text) => {
          out.flush();
          process.stderr.write(text);
        },
        color: pc.isColorSupported,
        environment: request.environment,
        logHint: (operation) => operationLogPath(home, operation),
      });
  const engine = new Engine().use(...builtinStagePlugins(), new StdoutTransport(renderer));
  try {
    let operation;
    try {
      operation = await prepareOperation({ engine, state, home }, request);
    } catch (err) {
      renderer.render(rejection(err));
      throw new ExitError(1);
    }
    // Ctrl-C stops the running stage and rolls back; a second one leaves at once.
    let interrupted = false;
    const onInterrupt = (): void => {
      if (interrupted) {
        out.flush();
        process.stderr.write(`\npiko: left without cleaning up; \`piko destroy --force ${request.environment}\` removes what was made\n`);
        process.exit(130);
      }
      interrupted = true;
      process.stderr.write('\npiko: cancelling, rolling back what was done (Ctrl-C again to leave at once)\n');
      operation.cancel('Ctrl-C');
    };
    process.on('SIGINT', onInterrupt);
    const complete = await engine.run(operation);
    process.off('SIGINT', onInterrupt);
    if (!complete.success) throw new ExitError(interrupted ? 130 : 1);
  } finally {
    out.flush();
    state.close();
  }
}
