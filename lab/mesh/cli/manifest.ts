/**
 * Rendering helpers: objects to the YAML stream the CLI prints (`---` between documents), and Helm's
 * `--set key=value` applied to a values tree (dotted paths, list indexes, typed scalars).
 */
import { stringify } from 'yaml';
import { UsageError } from './args';

/** A Kubernetes object as the CLI renders it. */
export type RenderedObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

/** The YAML stream of `objects`, each document opened with `---` as Helm's rendering does. */
export function renderYaml(objects: RenderedObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

/** Object metadata with the labels and annotations given (empty maps left out). */
export function meta(name: string, namespace: string | undefined, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

/** Helm's typing of a `--set` value: booleans, integers and null; everything else a string. */
function typed(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null') return null;
  if (/^-?\d+$/.test(value) && value.length < 16) return Number(value);
  return value;
}

/** Applies one `--set a.b[0].c=value` to `values` (in place). */
export function applySet(values: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`failed parsing --set data: key "${assignment}" has no value`);
  const path = assignment
    .slice(0, eq)
    .split(/\.|(?=\[)/)
    .map((part) => (/^\[\d+\]$/.test(part) ? Number(part.slice(1, -1)) : part));
  let node: Record<string | number, unknown> = values;
  path.forEach((key, i) => {
    const last = i === path.length - 1;
    if (last) {
      node[key] = typed(assignment.slice(eq + 1));
      return;
    }
    const nextIsIndex = typeof path[i + 1] === 'number';
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = nextIsIndex ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
}
