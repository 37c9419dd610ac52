// Options several commands share.
import { Option, type Command } from 'commander';

export interface StreamOptions {
  json?: boolean;
  quiet?: boolean;
  yes?: boolean;
  transport?: string;
}

export function transportOption(): Option {
  return new Option(
    '-t, --transport <transport>',
    'websocket or sse: through `piko server` when one runs, else here; stdout: always here; or one a plugin adds (default: $PIKO_TRANSPORT, then the config, then websocket)',
  );
}

/** The options of every command that shows an operation as it runs. */
export function streaming(command: Command): Command {
  return command
    .addOption(transportOption())
    .option('--json', 'print the protocol messages as NDJSON, nothing else')
    .option('-q, --quiet', 'print only the final line and errors')
    .option('-y, --yes', "approve what the project's config runs (scripts, stages, plugins) as it is now");
}
