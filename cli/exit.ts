/** Thrown by commands to leave with a code; only cli/piko.ts turns it into the exit code. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
