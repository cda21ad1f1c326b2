/**
 * The etcd static Pod manifest kubeadm wrote, with or without `--force-new-cluster` in its command.
 * Edited as a YAML document, so everything else in it stays as kubeadm wrote it.
 */
import { isSeq, parseDocument } from 'yaml';

/** The flag that makes etcd start as a one-member cluster on its own data. */
export const FORCE_NEW_CLUSTER = '--force-new-cluster';

/** The command of the manifest's etcd container, or undefined when the manifest has none. */
function commandOf(text: string): { doc: ReturnType<typeof parseDocument>; items: unknown[] } | undefined {
  const doc = parseDocument(text);
  const command = doc.getIn(['spec', 'containers', 0, 'command'], true);
  if (!isSeq(command)) return undefined;
  return { doc, items: command.items.map((i) => (i && typeof i === 'object' && 'value' in i ? (i as { value: unknown }).value : i)) };
}

/** Whether the manifest starts etcd with `--force-new-cluster`; undefined when it is not an etcd manifest. */
export function forcesNewCluster(text: string): boolean | undefined {
  const parsed = commandOf(text);
  if (!parsed || parsed.items[0] !== 'etcd') return undefined;
  return parsed.items.includes(FORCE_NEW_CLUSTER);
}

/** The manifest with the flag added (after `etcd`) or removed; unchanged when it already is so. */
export function withForceNewCluster(text: string, on: boolean): string {
  const parsed = commandOf(text);
  if (!parsed || parsed.items[0] !== 'etcd') throw new Error('the manifest has no etcd container command');
  const has = parsed.items.includes(FORCE_NEW_CLUSTER);
  if (has === on) return text;
  const items = on ? ['etcd', FORCE_NEW_CLUSTER, ...parsed.items.slice(1)] : parsed.items.filter((i) => i !== FORCE_NEW_CLUSTER);
  parsed.doc.setIn(['spec', 'containers', 0, 'command'], parsed.doc.createNode(items));
  return parsed.doc.toString();
}

/** The `--flag=value` arguments of the manifest's etcd command, by flag name (without the dashes). */
export function etcdFlags(text: string): Record<string, string> | undefined {
  const parsed = commandOf(text);
  if (!parsed || parsed.items[0] !== 'etcd') return undefined;
  const flags: Record<string, string> = {};
  for (const item of parsed.items.slice(1)) {
    const match = typeof item === 'string' ? /^--([a-z0-9-]+)=(.*)$/.exec(item) : null;
    if (match) flags[match[1]] = match[2];
  }
  return flags;
}
