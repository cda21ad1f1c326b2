/**
 * kubeadm's failures: an error with the phase it happened in, printed as kubeadm prints it
 * (`error: error execution phase <phase>: <message>` and the stack-trace hint) with exit code 1.
 */

/** A kubeadm failure; `phase` is set by the phase runner. */
export class KubeadmError extends Error {
  phase?: string;
  /** Printed before the error line (preflight's list of fatal errors). */
  preamble?: string;
  constructor(message: string, options?: { phase?: string; preamble?: string }) {
    super(message);
    this.name = 'KubeadmError';
    this.phase = options?.phase;
    this.preamble = options?.preamble;
  }
}

/** Runs one phase; an error inside is reported with the phase's name. */
export async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeadmError) {
      if (!err.phase) err.phase = name;
      throw err;
    }
    const wrapped = new KubeadmError((err as Error).message, { phase: name });
    wrapped.stack = (err as Error).stack;
    throw wrapped;
  }
}

/** kubeadm's error text for an error. */
export function formatError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof KubeadmError && err.phase)
    return `error: error execution phase ${err.phase}: ${message}\nTo see the stack trace of this error execute with --v=5 or higher\n`;
  return `error: ${message}\nTo see the stack trace of this error execute with --v=5 or higher\n`;
}
