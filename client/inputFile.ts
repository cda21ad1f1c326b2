/**
 * Reads a workflow input file for a `kubeha` verb: the file is read, parsed as JSON and checked with the
 * workflow's own schema before anything reaches Temporal, so a bad file starts nothing.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { inputIssues } from '../common/validation';
import { CliError } from './connection';

/** A file that passed its schema: what the operator wrote (the workflow applies defaults itself) and the parsed value. */
export interface CheckedInput<T> {
  raw: unknown;
  parsed: T;
}

/**
 * Reads and validates `file` against `schema`. Throws a {@link CliError} with exit code 2 listing every
 * issue as `path: message` when the file is unreadable, not JSON, or breaks the schema.
 */
export function readWorkflowInput<S extends z.ZodType>(file: string, schema: S, workflowType: string): CheckedInput<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, 2);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const lines = inputIssues(parsed.error).map((issue) => `  ${issue.path}: ${issue.message}`);
    throw new CliError(`${file} is not a valid ${workflowType} input; nothing was started:\n${lines.join('\n')}`, 2);
  }
  return { raw, parsed: parsed.data };
}
