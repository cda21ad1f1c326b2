/**
 * Turns schema violations into kubeha's InvalidInput failure: one line per bad field, each naming the
 * field's path and the rule, so the operator fixes everything in one go. Shared by workflows (before any
 * activity runs), the CLI (before anything is started) and the servers (before anything is accepted).
 */
import type { z } from 'zod';
import { ErrorType, kubehaFailure } from './errors';

/** One violated rule. */
export interface InputIssue {
  /** The field, as `hosts[2].ssh.port`; `(input)` for the whole object. */
  path: string;
  message: string;
}

/** Formats a zod path as `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(input)';
}

/** Every issue of a failed parse, flattened (union branches included), deduplicated, in order. */
export function inputIssues(error: z.ZodError): InputIssue[] {
  const seen = new Set<string>();
  const issues: InputIssue[] = [];
  for (const issue of error.issues) {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling`;
    const entry = { path: formatPath(issue.path), message };
    const key = `${entry.path}\u0000${entry.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(entry);
    }
  }
  return issues;
}

/**
 * Parses `raw` with `schema`, or throws a non-retryable InvalidInput failure whose message lists every
 * issue and whose details carry them as data.
 */
export function parseInput<S extends z.ZodType>(what: string, schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = inputIssues(result.error);
  throw kubehaFailure({
    type: ErrorType.InvalidInput,
    message: `invalid ${what} input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    retryable: false,
    hint: 'fix the named fields and start again; nothing was changed',
    details: { issues },
  });
}
