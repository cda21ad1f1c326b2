/**
 * kubeadm's own error texts (test/fixtures/kubeadm/source-errors.json, written by hand from
 * kubeadm's source), filled in the way Go's fmt fills them. Tests compare the lab's kubeadm output
 * and kubeha's classifiers with these, so neither can drift into texts kubeadm never prints.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/paths';

/** One text: its id, the kubeadm (or library) source file, the Go format and example arguments. */
export interface KubeadmText {
  id: string;
  source: string;
  format: string;
  example: (string | number)[];
  /** A progress line, not an error: no classifier may depend on it. */
  info?: boolean;
}

/** Every text of the fixture. */
export const KUBEADM_TEXTS: KubeadmText[] = (
  JSON.parse(readFileSync(path.join(projectRoot, 'test/fixtures/kubeadm/source-errors.json'), 'utf8')) as { errors: KubeadmText[] }
).errors;

/** Go's fmt for the verbs kubeadm's messages use: %s %v %d and %q (a Go-quoted string). */
export function goFormat(format: string, args: (string | number)[]): string {
  let next = 0;
  const text = format.replace(/%([sqvd%])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    if (next >= args.length) throw new Error(`too few arguments for ${JSON.stringify(format)}`);
    const arg = args[next++];
    // JSON quoting equals Go's %q for the printable ASCII these messages carry.
    return verb === 'q' ? JSON.stringify(String(arg)) : String(arg);
  });
  if (next !== args.length) throw new Error(`too many arguments for ${JSON.stringify(format)}`);
  return text;
}

/** The text with the given id, filled with `args` (else with the fixture's example). */
export function kubeadmText(id: string, ...args: (string | number)[]): string {
  const entry = KUBEADM_TEXTS.find((t) => t.id === id);
  if (!entry) throw new Error(`no kubeadm text ${id} in source-errors.json`);
  return goFormat(entry.format, args.length > 0 ? args : entry.example);
}
