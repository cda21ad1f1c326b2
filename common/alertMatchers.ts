/**
 * Label matchers in Alertmanager's own syntax (`name="value"`, `!=`, `=~`, `!~`), so routes read like
 * the `matchers` of an Alertmanager route. Regular expressions are anchored at both ends, as there,
 * and a missing label matches as the empty string.
 */

/** One compiled matcher. */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** Compiled for `=~` and `!~`. */
  regex?: RegExp;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*$/;

/** Parses `name="value"` (or with `!=`, `=~`, `!~`; quotes optional for simple values). Throws with a clear message. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`"${text.slice(0, 100)}" is not a matcher like alertname="WestDown", severity=~"critical|page" or cluster!="east"`);
  const op = m[2] as Matcher['op'];
  const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4];
  const matcher: Matcher = { name: m[1], op, value };
  if (op === '=~' || op === '!~') {
    try {
      matcher.regex = new RegExp(`^(?:${value})$`);
    } catch (err) {
      throw new Error(`"${text.slice(0, 100)}" has an invalid regular expression: ${(err as Error).message}`);
    }
  }
  return matcher;
}

/** Whether `labels` satisfy one matcher. */
export function matches(matcher: Matcher, labels: Record<string, string>): boolean {
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex?.test(value) ?? false;
    case '!~':
      return !(matcher.regex?.test(value) ?? false);
  }
}

/** Whether `labels` satisfy every matcher. */
export function matchesAll(matchers: readonly Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => matches(m, labels));
}
