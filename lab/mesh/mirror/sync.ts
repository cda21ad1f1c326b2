/**
 * LAB EMULATION of Linkerd's multicluster service mirror (lab/README.md, "Lab service mirror"): one
 * pass over the Links of the local cluster. Each Link is synced on its own; one whose linked cluster
 * or gateway cannot be reached is reported and left as it is, as the controller retries rather than
 * tearing mirrors down.
 */
import type { KubeClient } from '../../kube/client';
import { MULTICLUSTER_NAMESPACE } from '../cli/names';
import { listLinks, type Resolver } from './link';
import { type LinkSyncResult, syncLink } from './linkSync';
import { type MirrorWrite, WriteRecorder } from './writes';

/** Options of {@link syncMirrors}. */
export interface SyncMirrorsOptions {
  /** The local cluster (where the Links and the mirrors live). */
  local: KubeClient;
  /** Where the Links and their credentials are (the controller's `-namespace`). Default linkerd-multicluster. */
  namespace?: string;
  /** Only this Link (one controller per Link, as the chart runs them). Default: every Link. */
  linkName?: string;
  /** `-enable-namespace-creation`. Default false, as the chart's default: a Service whose namespace is missing is skipped. */
  namespaceCreation?: boolean;
  /** The probe Service of a Link (`-probe-service`). Default `probe-<link>`, the chart's name in link-gen mode. */
  probeService?: (linkName: string) => string;
  /** Name resolution of gateway addresses. Default: the system resolver. */
  resolve?: Resolver;
  /** Timeout of each request to a linked cluster. Default 10 s. */
  remoteTimeoutMs?: number;
}

/** What one pass did. */
export interface SyncReport {
  links: LinkSyncResult[];
  /** Links the pass could not sync, with the error. */
  failed: Array<{ link: string; error: string }>;
  /** Every write made to the local cluster (none when nothing changed). */
  writes: MirrorWrite[];
}

/** Runs one pass of the service mirror over the local cluster's Links. */
export async function syncMirrors(options: SyncMirrorsOptions): Promise<SyncReport> {
  const namespace = options.namespace ?? MULTICLUSTER_NAMESPACE;
  const recorder = new WriteRecorder(options.local);
  const report: SyncReport = { links: [], failed: [], writes: recorder.writes };
  for (const link of await listLinks(options.local, namespace, options.linkName)) {
    try {
      report.links.push(
        await syncLink(options.local, recorder, link, {
          namespaceCreation: options.namespaceCreation ?? false,
          probeService: (options.probeService ?? ((name) => `probe-${name}`))(link.metadata.name),
          resolve: options.resolve,
          remoteTimeoutMs: options.remoteTimeoutMs ?? 10_000,
        }),
      );
    } catch (err) {
      report.failed.push({ link: link.metadata.name, error: (err as Error).message });
    }
  }
  return report;
}
