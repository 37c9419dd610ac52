// The state every command reads: `$PIKO_HOME/state.db`, and where PIKO_HOME is.
import { pikoHome } from '../core/paths.js';
import { State } from '../core/state/state.js';

export function openState(): { home: string; state: State } {
  const home = pikoHome();
  return { home, state: new State(home) };
}
