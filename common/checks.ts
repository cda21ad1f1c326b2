/**
 * Checks as records, in the manner of Linkerd's health checks: each check is a description, a hint
 * for the operator, whether a failure is fatal, and a pure function from facts gathered once to the
 * problems it finds. One runner runs them all, so verification reads as a list and every failure
 * names its check and carries its hint. Pure and deterministic: workflows run it on their facts.
 */

/** One check over facts of type `F`. */
export interface CheckRecord<F> {
  /** What holds when the check passes, e.g. "every host has a Ready Node". */
  description: string;
  /** What to do when it fails. */
  hint: string;
  /** A fatal failure fails the verification; a non-fatal one is a warning. */
  fatal: boolean;
  /** The problems found, each naming the host, member or target; none when the check passes. */
  check(facts: F): string[];
}

/** The outcome of one check. */
export interface CheckResult {
  description: string;
  fatal: boolean;
  ok: boolean;
  problems: string[];
  hint: string;
}

/** Runs every check on the facts, in order. A check that throws fails with its error as the problem. */
export function runChecks<F>(checks: readonly CheckRecord<F>[], facts: F): CheckResult[] {
  return checks.map((c) => {
    let problems: string[];
    try {
      problems = c.check(facts);
    } catch (err) {
      problems = [`the check could not run: ${err instanceof Error ? err.message : String(err)}`];
    }
    return { description: c.description, fatal: c.fatal, ok: problems.length === 0, problems, hint: c.hint };
  });
}

/** The fatal failures among the results. */
export function fatalFailures(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.fatal && !r.ok);
}

/** One line per check, as `linkerd check` prints them: √ passed, × failed (fatal), ‼ warning. */
export function checkLines(results: readonly CheckResult[]): string[] {
  return results.map((r) => `${r.ok ? '√' : r.fatal ? '×' : '‼'} ${r.description}${r.ok ? '' : `: ${r.problems.join('; ')}`}`);
}
