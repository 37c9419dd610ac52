/**
 * Thrown by commands to leave with a code; only cli/piko.ts turns it into the exit code. With
 * `immediate`, the process leaves at once, whatever still runs (a second Ctrl-C).
 */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    readonly immediate = false,
  ) {
    super(`exit ${exitCode}`);
  }
}
