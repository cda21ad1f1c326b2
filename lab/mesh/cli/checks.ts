/**
 * Health checks as data, run the way linkerd2's healthcheck package runs them: categories of checkers
 * (description, hint anchor, fatal, warning, retried until `--wait`), a skipped checker prints nothing,
 * a fatal failure ends the run, and the results print as `linkerd check` prints them: the JSON object
 * of `-o json` or the √/‼/× table.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HINT_BASE } from './names';

/** What a passing check may add: skip it (not printed), or append lines to its description. */
export type CheckOutcome = void | { skip: string } | { verbose: string };

/** One check. A failure is a thrown Error whose message is what the CLI prints. */
export interface Checker {
  description: string;
  hintAnchor: string;
  /** A failure stops every later check. */
  fatal?: boolean;
  /** A failure is a warning: the run still succeeds. */
  warning?: boolean;
  /** Retried until the `--wait` deadline before it counts as failed. */
  retry?: boolean;
  check: () => Promise<CheckOutcome>;
}

/** A category of checks, by its id (`linkerd-identity`). */
export interface Category {
  name: string;
  checkers: Checker[];
}

/** One printed result. */
export interface CheckResult {
  category: string;
  description: string;
  result: 'success' | 'warning' | 'error';
  error?: string;
  hint?: string;
}

/** The outcome of a run. */
export interface CheckRun {
  success: boolean;
  warning: boolean;
  results: CheckResult[];
}

const RETRY_MS = 1000;

/** Runs the categories in order; `waitMs` bounds the retries of retried checks. */
export async function runChecks(categories: Category[], waitMs: number): Promise<CheckRun> {
  const deadline = Date.now() + waitMs;
  const run: CheckRun = { success: true, warning: false, results: [] };
  for (const category of categories) {
    for (const checker of category.checkers) {
      let outcome: CheckOutcome = undefined;
      let error: string | undefined;
      for (;;) {
        error = undefined;
        try {
          outcome = await checker.check();
        } catch (err) {
          error = (err as Error).message;
        }
        if (error === undefined || !checker.retry || Date.now() >= deadline) break;
        await sleep(RETRY_MS);
      }
      if (error === undefined && outcome && 'skip' in outcome) continue;
      const description = error === undefined && outcome && 'verbose' in outcome ? `${checker.description}\n${outcome.verbose}` : checker.description;
      const result: CheckResult = { category: category.name, description, result: error === undefined ? 'success' : checker.warning ? 'warning' : 'error' };
      if (error !== undefined) {
        result.error = error;
        result.hint = `${HINT_BASE}${checker.hintAnchor}`;
        if (checker.warning) run.warning = true;
        else run.success = false;
      }
      run.results.push(result);
      if (error !== undefined && checker.fatal) return run;
    }
  }
  return run;
}

/** The `-o json` document (healthcheck.CheckOutput), indented as json.MarshalIndent does. */
export function renderJson(run: CheckRun): string {
  const categories: Array<{ categoryName: string; checks: Array<Record<string, string>> }> = [];
  for (const r of run.results) {
    if (categories.at(-1)?.categoryName !== r.category) categories.push({ categoryName: r.category, checks: [] });
    const check: Record<string, string> = { description: r.description };
    if (r.hint) check.hint = r.hint;
    if (r.error) check.error = r.error;
    check.result = r.result;
    categories[categories.length - 1].checks.push(check);
  }
  return `${JSON.stringify({ success: run.success, categories: categories.length ? categories : null }, null, 2)}\n`;
}

const SYMBOL = { success: '√', warning: '‼', error: '×' } as const;

/** The table output, closed by the status line. */
export function renderTable(run: CheckRun): string {
  const lines: string[] = [];
  let category: string | undefined;
  for (const r of run.results) {
    if (r.category !== category) {
      if (category !== undefined) lines.push('');
      category = r.category;
      lines.push(category, '-'.repeat(category.length));
    }
    lines.push(`${SYMBOL[r.result]} ${r.description}`);
    if (r.error) lines.push(`    ${r.error}`);
    if (r.hint) lines.push(`    see ${r.hint} for hints`);
  }
  lines.push('', `Status check results are ${run.success ? SYMBOL.success : SYMBOL.error}`);
  return `${lines.join('\n')}\n`;
}
