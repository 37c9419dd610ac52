const EXIT_ERROR: unique symbol = Symbol.for('piko.exit');

/**
 * Thrown by commands to leave with a code; only cli/program.ts turns it into the exit code. With
 * `immediate`, the process leaves at once, whatever still runs (a second Ctrl-C).
 */
export class ExitError extends Error {
  /** Known across the bundled files, each with its own copy of this class (see PikoError). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && EXIT_ERROR in value;
  }

  readonly [EXIT_ERROR] = true;

  constructor(
    readonly exitCode: number,
    readonly immediate = false,
  ) {
    super(`exit ${exitCode}`);
  }
}
