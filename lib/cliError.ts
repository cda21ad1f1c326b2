/**
 * The error a kubeha command or process ends with at start: its message is printed as is (no stack) and
 * the process exits with its code. Lives in lib/ because the worker's parts raise it too.
 */
/** An error a command ends with: the message is printed as is (no stack), the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    /** 1: the operation failed; 2: the input or the command line is wrong. */
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
