/**
 * Records a change of a split as a Kubernetes Event on the object (`kubectl describe` and
 * `kubectl get events` show it beside the object). The Event's name comes from the caller and is
 * stable per workflow step, so a retried activity finds its Event instead of recording a second one.
 */
import { KubeApiError } from '../kubernetes/errors';
import type { KubeClient } from '../kubernetes/client';
import type { SplitEvent } from './types';

/** What the Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** An Event name the API accepts (DNS subdomain): lowercase, `[a-z0-9.-]`, at most 253 characters. */
export function eventName(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
  return cleaned || 'kubeha-event';
}

/** Creates the Event; returns false when one with that name already exists (recorded by an earlier attempt). */
export async function recordEvent(client: KubeClient, object: InvolvedObject, event: SplitEvent, now: Date = new Date()): Promise<boolean> {
  // metav1.Time is RFC 3339 in whole seconds.
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: eventName(event.name), namespace: object.namespace },
    involvedObject: object,
    reason: event.reason,
    message: event.message.slice(0, 1024),
    type: 'Normal',
    source: { component: 'kubeha' },
    reportingComponent: 'kubeha',
    reportingInstance: 'kubeha-worker',
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
  const res = await client.request('POST', `/api/v1/namespaces/${encodeURIComponent(object.namespace)}/events`, JSON.stringify(body));
  if (res.status === 409) return false;
  if (res.status < 200 || res.status > 299) throw new KubeApiError(res.status, res.body);
  return true;
}
