/**
 * The contracts of the failover activities: service readiness and the mesh's traffic split, read,
 * changed, verified and recorded as Kubernetes Events. Type-only module: workflows import it.
 * Load balancer targets and etcd quorum come from the AWS and host activities (activities/types.ts).
 */
import type { SecretName } from '../types';

/** A Service in a cluster, reached through the kubeconfig in the secret store. */
export interface ServiceRef {
  kubeconfigSecret: SecretName;
  namespace: string;
  name: string;
}

/** Services of one cluster to probe together. */
export interface ServicesReadinessInput {
  kubeconfigSecret: SecretName;
  services: Array<{ namespace: string; name: string }>;
}

/** One service's readiness, or why it could not be read. */
export type ServiceProbe = { service: string; readiness: ServiceReadiness } | { service: string; error: string };

/** How many endpoints of a Service are ready, and where that was read. */
export interface ServiceReadiness {
  /** `namespace/name`. */
  service: string;
  ready: number;
  notReady: number;
  /** EndpointSlices when the cluster has any for the service, else the (mirrored) Endpoints object. */
  source: 'EndpointSlice' | 'Endpoints' | 'none';
  /** False when the Service itself does not exist. */
  serviceExists: boolean;
}

/** The split object of one service, in west. */
export interface SplitRef {
  kubeconfigSecret: SecretName;
  kind: 'TrafficSplit' | 'HTTPRoute';
  apiVersion: string;
  namespace: string;
  name: string;
  westBackend: string;
  eastBackend: string;
}

/** The weights the split gives west and east, as read back. */
export interface SplitWeights {
  west: number;
  east: number;
  /** Rounded share of east in percent (0 when both weights are 0). */
  eastPercent: number;
}

/** What a split looks like now. */
export interface SplitState extends SplitWeights {
  resourceVersion: string;
}

/** The Event recorded on the split object for a change. */
export interface SplitEvent {
  /** Deterministic per workflow run and step, so a retried activity never records twice. */
  name: string;
  /** CamelCase, e.g. FailoverShift, FailbackShift. */
  reason: string;
  message: string;
}

/** Input of `setSplitWeights`. */
export interface SetSplitInput extends SplitRef {
  eastPercent: number;
  event: SplitEvent;
}

/** Result of `setSplitWeights`. */
export interface SetSplitResult {
  /** False when the split already had these weights (a resumed or repeated step). */
  changed: boolean;
  before: SplitWeights;
  after: SplitWeights;
  /** Whether the Event was recorded by this call (false: it already was). */
  eventRecorded: boolean;
}

/** The failover activities (created by `createFailoverActivities`). */
export interface FailoverActivities {
  /** Ready and not-ready endpoints of a Service. */
  serviceReadiness(input: ServiceRef): Promise<ServiceReadiness>;
  /**
   * The readiness of many services of one cluster in one activity (one check round of the failback
   * window: a few history events, however many services the pair has). A service that cannot be read
   * is reported with its error instead of failing the others.
   */
  servicesReadiness(input: ServicesReadinessInput): Promise<ServiceProbe[]>;
  /** The split's weights for the west and east backends. */
  readSplit(input: SplitRef): Promise<SplitState>;
  /**
   * Sets the split to `eastPercent` (west gets the rest) unless it already is, reads it back and
   * verifies, then records an Event on the object. Fails with VerificationFailed when the read-back
   * differs (another controller, e.g. linkerd-failover, changed it).
   */
  setSplitWeights(input: SetSplitInput): Promise<SetSplitResult>;
}
