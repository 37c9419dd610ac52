// `piko vars [name] [--json]`: every PIKO_* variable of an environment, for `eval "$(piko vars)"`.
import { environmentInfo } from '../../core/state/state.js';
import { environmentVariables } from '../../core/environment/vars.js';
import { openState } from '../open-state.js';
import { resolveEnvironment } from '../../core/state/resolve.js';
import { print } from '../terminal/print.js';

/** `'it'\''s'`: a value the shell reads back exactly. */
export const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

export async function vars(name: string | undefined, options: { json?: boolean }): Promise<void> {
  const { state } = openState();
  try {
    const { project, environment } = await resolveEnvironment(state, name, process.cwd());
    const values = environmentVariables(project.root, environmentInfo(environment));
    print(
      options.json
        ? `${JSON.stringify(values, null, 2)}\n`
        : Object.entries(values)
            .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`)
            .join(''),
    );
  } finally {
    state.close();
  }
}
