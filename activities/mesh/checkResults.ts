/**
 * `linkerd check -o json` into kubeha's check results, and the results back into the lines people know
 * from `linkerd check`: √ ok, ‼ warning, × error with its hint.
 *
 * The JSON is `{"success": bool, "categories": [{"categoryName", "checks": [{"description", "hint"?,
 * "error"?, "result": "success"|"warning"|"error"}]}]}` (linkerd2 pkg/healthcheck). `linkerd check`
 * prints one such object for the core checks and one per extension, one after the other.
 */
import type { CheckStatus, MeshCheck, MeshCheckReport } from './types';

interface JsonCheck {
  description?: unknown;
  hint?: unknown;
  error?: unknown;
  result?: unknown;
}
interface JsonOutput {
  success?: unknown;
  categories?: Array<{ categoryName?: unknown; checks?: JsonCheck[] }>;
}

const STATUS: Record<string, CheckStatus> = { success: 'ok', warning: 'warning', error: 'error' };

/** Splits text holding JSON objects back to back (with anything between them) into the objects. */
function jsonObjects(text: string): unknown[] {
  const objects: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        try {
          objects.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          // not JSON after all (a brace in free text): skip it
        }
      }
    }
  }
  return objects;
}

/**
 * Parses the output of `linkerd [multicluster] check -o json`. Throws when there is no check object in
 * it (the CLI failed before checking: its stderr says why).
 */
export function parseCheckJson(stdout: string): MeshCheck[] {
  const outputs = jsonObjects(stdout).filter((o): o is JsonOutput => typeof o === 'object' && o !== null && Array.isArray((o as JsonOutput).categories));
  if (outputs.length === 0) throw new Error('no check results in the output of linkerd check -o json');
  const checks: MeshCheck[] = [];
  for (const output of outputs) {
    for (const category of output.categories ?? []) {
      for (const check of category.checks ?? []) {
        const status = STATUS[String(check.result)] ?? 'error';
        const entry: MeshCheck = { category: String(category.categoryName ?? ''), description: String(check.description ?? ''), status };
        if (typeof check.error === 'string' && check.error) entry.error = check.error;
        if (typeof check.hint === 'string' && check.hint) entry.hint = check.hint;
        checks.push(entry);
      }
    }
  }
  return checks;
}

/** A report from check lines: healthy unless one is an error. */
export function reportOf(cluster: string, checks: MeshCheck[]): MeshCheckReport {
  return { cluster, healthy: !checks.some((c) => c.status === 'error'), checks };
}

const SYMBOL: Record<CheckStatus, string> = { ok: '√', warning: '‼', error: '×' };

/** Renders a report as `linkerd check` does: categories, one line per check, error and hint indented. */
export function renderReport(report: MeshCheckReport): string {
  const lines: string[] = [];
  let category: string | undefined;
  for (const check of report.checks) {
    if (check.category !== category) {
      if (category !== undefined) lines.push('');
      category = check.category;
      lines.push(`${report.cluster}: ${category}`, '-'.repeat(report.cluster.length + 2 + category.length));
    }
    lines.push(`${SYMBOL[check.status]} ${check.description}`);
    if (check.error) lines.push(`    ${check.error}`);
    if (check.hint && check.status !== 'ok') lines.push(`    see ${check.hint} for hints`);
  }
  lines.push('', `Status check results are ${report.healthy ? SYMBOL.ok : SYMBOL.error}`);
  return lines.join('\n');
}

/** The warnings of reports, as one sentence each (for results and progress). */
export function warningsOf(reports: MeshCheckReport[]): string[] {
  return reports.flatMap((r) => r.checks.filter((c) => c.status === 'warning').map((c) => `${r.cluster}: ${c.description}${c.error ? ` (${c.error})` : ''}`));
}

/** The errors of reports, as one sentence each. */
export function errorsOf(reports: MeshCheckReport[]): string[] {
  return reports.flatMap((r) => r.checks.filter((c) => c.status === 'error').map((c) => `${r.cluster}: ${c.description}${c.error ? ` (${c.error})` : ''}`));
}
