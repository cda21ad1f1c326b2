/**
 * The cluster the CLI talks to: `--kubeconfig` (else $KUBECONFIG, else ~/.kube/config) and `--context`
 * (else the file's current context), through the lab's own API client.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { ApiError, KubeClient } from '../../kube/client';
import { parseKubeconfig } from '../../kube/kubeconfig';

/** Where the CLI finds its cluster. */
export interface KubeSelection {
  kubeconfig?: string;
  context?: string;
}

/** A kubeconfig the CLI cannot use, in client-go's words. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** The kubeconfig file the selection names, as the CLI resolves it. */
export function kubeconfigPath(selection: KubeSelection, env: NodeJS.ProcessEnv = process.env): string {
  return selection.kubeconfig || env.KUBECONFIG?.split(':')[0] || path.join(env.HOME ?? os.homedir(), '.kube', 'config');
}

/** The kubeconfig text with the selected context made current (and only that one kept). */
export function selectContext(text: string, context: string | undefined): string {
  const doc = parse(text) as { contexts?: Array<{ name?: string }>; 'current-context'?: string } | null;
  if (!doc) throw new KubeconfigError('invalid configuration: no configuration has been provided');
  const wanted = context || doc['current-context'];
  if (!wanted) throw new KubeconfigError('invalid configuration: no configuration has been provided');
  const entry = (doc.contexts ?? []).find((c) => c.name === wanted);
  if (!entry) throw new KubeconfigError(`context "${wanted}" does not exist`);
  doc.contexts = [entry];
  doc['current-context'] = wanted;
  return stringify(doc);
}

/** Reads the selected kubeconfig (cut to its context); throws {@link KubeconfigError}. */
export function readSelectedKubeconfig(selection: KubeSelection): string {
  const file = kubeconfigPath(selection);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`stat ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  return selectContext(text, selection.context);
}

/** A client for a kubeconfig text whose current context is the one to use. */
export function clientForKubeconfig(text: string, timeoutMs = 30_000): KubeClient {
  try {
    return new KubeClient(parseKubeconfig(text), timeoutMs);
  } catch (err) {
    throw new KubeconfigError(`invalid configuration: ${(err as Error).message}`);
  }
}

/** The selected cluster's client. */
export function openCluster(selection: KubeSelection): KubeClient {
  return clientForKubeconfig(readSelectedKubeconfig(selection));
}

/** GET that answers undefined on 404, as client-go's NotFound. */
export async function find<T>(client: KubeClient, apiPath: string): Promise<T | undefined> {
  return client.find<T>(apiPath);
}

/** client-go's text for a missing object: `configmaps "linkerd-config" not found`. */
export function notFound(resource: string, name: string): string {
  return `${resource} "${name}" not found`;
}

export { ApiError, KubeClient };
