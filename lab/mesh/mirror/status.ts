/**
 * The Link's `status.mirrorServices`: one entry per remote Service the controller acted on, with a
 * single `Mirrored` condition (True/Mirrored with the local Service, or False with the reason). The
 * entry goes when the remote Service is no longer exported. Written with a merge patch on the
 * Link's status subresource, and only when an entry changed: an unchanged condition keeps its
 * lastTransitionTime, so a pass that changes nothing writes nothing.
 */
import type { KubeClient } from '../../kube/client';
import { LINK_GROUP, LINK_VERSION, SERVICE_MIRROR_CONTROLLER_NAME } from '../cli/names';
import type { LinkCondition, LinkResource, MirrorServiceStatus } from './link';
import { sameJson } from './same';

/** Reasons the controller gives. */
export const REASON_MIRRORED = 'Mirrored';
export const REASON_MISSING_NAMESPACE = 'MissingNamespace';
export const REASON_ERROR = 'Error';

/** What happened to one remote Service in a pass. */
export interface MirrorOutcome {
  remote: { name: string; namespace: string };
  mirrored: boolean;
  reason: string;
  message: string;
  local?: { name: string; namespace: string };
}

const ref = (name: string, namespace: string) => ({ name, namespace, kind: 'Service', group: '' });
const key = (r: { name: string; namespace: string }) => `${r.namespace}/${r.name}`;

/** The condition of an outcome, timed `now` unless the previous one says the same. */
function condition(outcome: MirrorOutcome, previous: LinkCondition | undefined, now: string): LinkCondition {
  const next: LinkCondition = {
    type: 'Mirrored',
    status: outcome.mirrored ? 'True' : 'False',
    reason: outcome.reason,
    message: outcome.message,
    lastTransitionTime: now,
    ...(outcome.local ? { localRef: ref(outcome.local.name, outcome.local.namespace) } : {}),
  };
  const same =
    previous &&
    previous.status === next.status &&
    previous.reason === next.reason &&
    (previous.message ?? '') === next.message &&
    sameJson(previous.localRef ?? null, next.localRef ?? null);
  return same ? { ...next, lastTransitionTime: previous.lastTransitionTime } : next;
}

/** The entries the Link should carry after a pass. */
export function mirrorStatuses(previous: MirrorServiceStatus[], outcomes: MirrorOutcome[], now = new Date()): MirrorServiceStatus[] {
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const before = new Map(previous.map((s) => [key(s.remoteRef), s]));
  return outcomes
    .map((o) => ({
      controllerName: SERVICE_MIRROR_CONTROLLER_NAME,
      remoteRef: ref(o.remote.name, o.remote.namespace),
      conditions: [condition(o, before.get(key(o.remote))?.conditions?.[0], at)],
    }))
    .sort((a, b) => key(a.remoteRef).localeCompare(key(b.remoteRef)));
}

/** Writes the entries when they differ from the Link's; answers whether it wrote. */
export async function writeMirrorStatuses(local: KubeClient, link: LinkResource, statuses: MirrorServiceStatus[]): Promise<boolean> {
  const current = link.status?.mirrorServices ?? [];
  if (sameJson(current, statuses)) return false;
  const path = `/apis/${LINK_GROUP}/${LINK_VERSION}/namespaces/${link.metadata.namespace}/links/${link.metadata.name}/status`;
  await local.mergePatch(path, { status: { mirrorServices: statuses } });
  return true;
}
