/**
 * The messages a running FailoverToEast takes and gives: alert notifications from kubeha's webhook, the
 * operator's approval, a forced failback, and the `status` query's answer (re-exported by
 * failoverToEast.ts). Types and names only: no Node built-ins.
 */
/** Signal name: an Alertmanager notification relayed by the webhook (firing, repeat, duplicate or resolved). */
export const ALERT_SIGNAL = 'alert';
/** Signal name: the operator approves the failover. */
export const APPROVE_SIGNAL = 'approve';
/** Signal name: the operator rejects the failover. */
export const REJECT_SIGNAL = 'reject';
/** Update name: approve or reject, answered with the decision taken (the Web UI and CLI can send it). */
export const APPROVAL_UPDATE = 'approval';
/** Signal name: move traffic back now, without waiting for the hysteresis window. */
export const FAILBACK_SIGNAL = 'failback';
/** Query name: where the failover stands. */
export const STATUS_QUERY = 'status';

/** One alert of a notification, as much as the workflow needs (labels bounded by the webhook). */
export interface RelayedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
  labels: Record<string, string>;
}

/** What the webhook relays to the workflow for one notification and route. */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  /** Alertmanager's group key: the same group repeats with the same key. */
  groupKey: string;
  receiver: string;
  /** The webhook's routing rule that matched. */
  route: string;
  alerts: RelayedAlert[];
  /** When the webhook received it (ISO). */
  receivedAt: string;
}

/** The approval's answer, from a signal or the update. */
export interface ApprovalDecision {
  /** Who decided (a user name, "web-ui"); recorded in history and progress. */
  by?: string;
  comment?: string;
}

/** The update's argument. */
export interface ApprovalUpdate extends ApprovalDecision {
  decision: 'approve' | 'reject';
}

/** What the failover decided and why, in order: the `status` query lists them. */
export interface FailoverDecision {
  at: string;
  /** One CamelCase word: Shifted, Waited, Approved, Refused, WindowRestarted... */
  what: string;
  why: string;
}

/** Where one service's traffic stands, path by path. */
export interface ServiceTraffic {
  /** Route 53's weights of the service's record pair, as last set and INSYNC (global traffic management). */
  dns?: { record: string; west: number; east: number; changeId?: string; syncedAt?: string };
  /** East's share on west's split; `skipped` says why the mesh part was left out (west's API did not answer). */
  westSplit?: { eastPercent?: number; skipped?: string };
  /** East's share on east's own split (east's clients of the service), when the input names one. */
  eastSplit?: { eastPercent: number };
}

/** Where the failover stands: the `status` query's answer. */
export interface FailoverStatus {
  /** Per service (`namespace/name`): DNS weights first, then the mesh splits. What an operator asks first. */
  traffic: Record<string, ServiceTraffic>;
  pair: { west: string; east: string };
  /** idle → checking → awaiting-approval → failing-over → failed-over → failback-window → failing-back → failed-back; or refused / rejected. */
  state: 'checking' | 'awaiting-approval' | 'refused' | 'rejected' | 'failing-over' | 'failed-over' | 'failback-window' | 'failing-back' | 'failed-back';
  /** Percent of traffic to east, per split object (`namespace/name`). */
  eastPercent: Record<string, number>;
  /** Fingerprints of alerts firing now, as the last notifications said. */
  firing: string[];
  notifications: { total: number; firing: number; resolved: number; duplicates: number };
  approvedBy?: string;
  /** When west's healthy window started, during the failback window. */
  westHealthySince?: string;
  /** Spares registered by this failover (never deregistered by it). */
  sparesRegistered: string[];
  /** The RecoverControlPlane run this failover started when west's etcd lost quorum. */
  recovery?: { workflowId: string; approval: 'required' | 'none' };
  decisions: FailoverDecision[];
}
