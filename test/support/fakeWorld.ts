/**
 * A stand-in world for WORKFLOW tests: activity stubs backed by in-memory state (load balancer,
 * targets, hosts, etcd members, nodes), so the workflow's decisions can be tested fast and its
 * idempotency counted. Activity code itself is tested against real peers elsewhere.
 *
 * Like the real activities, each stub checks its state first and acts only when needed; `actions`
 * counts real side effects, so a test can prove no step's side effect was repeated.
 */
import type { AwsActivities, EtcdMember, HostActivities, JoinCredentials, KubernetesActivities, TargetHealth, TargetRef } from '../../activities/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { ChangeLedger } from './changeLedger';
import type { Injection } from './failureInjection';

export { type Injection, permanentFailure, transientFailure } from './failureInjection';

/** A recorded activity call with its wall-clock span. */
export interface CallRecord {
  name: string;
  host?: string;
  start: number;
  end: number;
}

const HOUR = 3600_000;

/** The in-memory world and its activity stubs. */
export class FakeWorld extends ChangeLedger {
  lb?: { arn: string; dnsName: string; tgArn: string; listenerArn: string };
  readonly targets = new Map<string, TargetHealth['state']>();
  readonly prepared = new Set<string>();
  initialized = false;
  readonly nodes = new Map<string, { ready: boolean; controlPlane: boolean }>();
  readonly etcd = new Map<string, EtcdMember>();
  cniApplied = false;
  readonly calls: CallRecord[] = [];
  readonly injections: Injection[] = [];
  /** Credentials the world currently accepts. */
  tokenGeneration = 1;
  certificateKeyGeneration = 1;
  /** Lifetimes handed out by init/refresh (tests shorten them to force refreshes). */
  certificateKeyLifetimeMs = 2 * HOUR;
  tokenLifetimeMs = 24 * HOUR;
  /** Delay of each join, to make overlaps observable. */
  joinDelayMs = 30;
  /** The credentials kubeha was last given (its secret store), which may go stale behind its back. */
  issued?: JoinCredentials;
  /** When set, waitTargetHealthy blocks until this resolves (crash tests). */
  gate?: Promise<void>;

  /** How many times a side effect happened. */
  count(kind: string): number {
    return this.actions.get(kind) ?? 0;
  }

  /**
   * Runs one stub: an injected failure first, then the stub; a successful call of an activity that
   * changes the world is counted (`changes`), whatever the stub found left to do.
   */
  private async record<T>(name: string, host: string | undefined, fn: () => Promise<T> | T, changes = false): Promise<T> {
    const start = Date.now();
    try {
      const injection = this.injections.find((i) => i.activity === name && (i.host === undefined || i.host === host) && (i.times ?? 1) > 0);
      if (injection) {
        injection.times = (injection.times ?? 1) - 1;
        throw injection.error();
      }
      const result = await fn();
      if (changes) this.called(host === undefined ? name : `${name}:${host}`);
      return result;
    } finally {
      this.calls.push({ name, host, start, end: Date.now() });
    }
  }

  private credentials(previous?: JoinCredentials, renew = { token: true, key: true }): JoinCredentials {
    const now = Date.now();
    const fresh = {
      caCertHash: 'sha256:' + 'a'.repeat(64),
      tokenSecret: `clusters/test/token-${this.tokenGeneration}`,
      tokenExpiresAt: new Date(now + this.tokenLifetimeMs).toISOString(),
      certificateKeySecret: `clusters/test/certificate-key-${this.certificateKeyGeneration}`,
      certificateKeyExpiresAt: new Date(now + this.certificateKeyLifetimeMs).toISOString(),
    };
    if (!previous) return fresh;
    return {
      caCertHash: fresh.caCertHash,
      tokenSecret: renew.token ? fresh.tokenSecret : previous.tokenSecret,
      tokenExpiresAt: renew.token ? fresh.tokenExpiresAt : previous.tokenExpiresAt,
      certificateKeySecret: renew.key ? fresh.certificateKeySecret : previous.certificateKeySecret,
      certificateKeyExpiresAt: renew.key ? fresh.certificateKeyExpiresAt : previous.certificateKeyExpiresAt,
    };
  }

  private member(name: string, address: string): EtcdMember {
    return {
      id: (this.etcd.size + 1).toString(16),
      name,
      peerUrls: [`https://${address}:2380`],
      clientUrls: [`https://${address}:2379`],
      isLearner: false,
      healthy: true,
    };
  }

  /** The stubs, shaped like the real activities. */
  activities(): AwsActivities & HostActivities & KubernetesActivities {
    const aws: AwsActivities = {
      ensureLoadBalancer: (input) =>
        this.record(
          'ensureLoadBalancer',
          undefined,
          () => {
            const created = !this.lb;
            if (!this.lb) {
              this.act('create-lb');
              this.lb = {
                arn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/x/1',
                dnsName: `${input.loadBalancer.name}-1.elb.us-east-1.amazonaws.com`,
                tgArn: 'arn:tg',
                listenerArn: 'arn:listener',
              };
            }
            return {
              loadBalancerArn: this.lb.arn,
              dnsName: this.lb.dnsName,
              targetGroupArn: this.lb.tgArn,
              listenerArn: this.lb.listenerArn,
              created: { loadBalancer: created, targetGroup: created, listener: created },
              notes: [],
            };
          },
          true,
        ),
      findLoadBalancer: () =>
        this.record('findLoadBalancer', undefined, () =>
          this.lb
            ? {
                loadBalancerArn: this.lb.arn,
                dnsName: this.lb.dnsName,
                targetGroupArn: this.lb.tgArn,
                listenerArn: this.lb.listenerArn,
                created: { loadBalancer: false, targetGroup: false, listener: false },
                notes: [],
              }
            : null,
        ),
      registerTarget: (t: TargetRef) =>
        this.record(
          'registerTarget',
          t.ip,
          () => {
            if (this.targets.has(t.ip)) return { registered: false };
            this.act(`register:${t.ip}`);
            this.targets.set(t.ip, 'initial');
            return { registered: true };
          },
          true,
        ),
      deregisterTarget: (t: TargetRef) =>
        this.record(
          'deregisterTarget',
          t.ip,
          () => {
            const had = this.targets.delete(t.ip);
            if (had) this.act(`deregister:${t.ip}`);
            return { deregistered: had };
          },
          true,
        ),
      describeTargetHealth: () => this.record('describeTargetHealth', undefined, () => [...this.targets].map(([ip, state]) => ({ ip, port: 6443, state }))),
      waitTargetHealthy: (input) =>
        this.record('waitTargetHealthy', input.ip, async () => {
          if (this.gate) await this.gate;
          if (!this.targets.has(input.ip))
            throw kubehaFailure({ type: ErrorType.Conflict, message: `${input.ip} not registered`, retryable: false, hint: 'register first' });
          this.targets.set(input.ip, 'healthy');
          return { state: 'healthy' as const, waitedSeconds: 0 };
        }),
    };
    const hosts: HostActivities = {
      prepareHost: (input) =>
        this.record(
          'prepareHost',
          input.host.name,
          () => {
            if (this.prepared.has(input.host.name)) return { host: input.host.name, changed: [], alreadyPrepared: ['all'] };
            if (input.dryRun) return { host: input.host.name, changed: ['sysctl'], alreadyPrepared: [] };
            this.act(`prepare:${input.host.name}`);
            this.prepared.add(input.host.name);
            return { host: input.host.name, changed: ['sysctl', 'containerd', 'kubeadm'], alreadyPrepared: [] };
          },
          !input.dryRun,
        ),
      kubeadmInit: (input) =>
        this.record(
          'kubeadmInit',
          input.host.name,
          () => {
            const already = this.initialized;
            if (!already) {
              this.act('init');
              this.initialized = true;
              this.nodes.set(input.host.name, { ready: true, controlPlane: true });
              this.etcd.set(input.host.name, this.member(input.host.name, input.host.address));
              this.issued = this.credentials();
            }
            return { alreadyInitialized: already, join: this.issued as JoinCredentials, kubeconfigSecret: 'clusters/test/admin-kubeconfig' };
          },
          true,
        ),
      findInitialized: (input) =>
        this.record('findInitialized', input.host.name, () =>
          this.initialized ? { alreadyInitialized: true, join: this.issued as JoinCredentials, kubeconfigSecret: 'clusters/test/admin-kubeconfig' } : null,
        ),
      refreshJoinCredentials: (input) =>
        this.record('refreshJoinCredentials', input.host.name, () => {
          if (input.refreshToken) {
            this.act('refresh-token');
            this.tokenGeneration++;
          }
          if (input.refreshCertificateKey) {
            this.act('refresh-certificate-key');
            this.certificateKeyGeneration++;
          }
          // Asking twice to replace the same credentials is a repeat; a later refresh of newer ones is not.
          this.called(
            `refreshJoinCredentials:${input.current?.tokenSecret ?? '-'}|${input.current?.certificateKeySecret ?? '-'}|${input.refreshToken}|${input.refreshCertificateKey}`,
          );
          this.issued = this.credentials(input.current, { token: input.refreshToken, key: input.refreshCertificateKey });
          return this.issued;
        }),
      kubeadmJoin: (input) =>
        this.record(
          'kubeadmJoin',
          input.host.name,
          async () => {
            if (this.nodes.has(input.host.name)) return { host: input.host.name, alreadyJoined: true, repaired: false };
            if (!input.join.tokenSecret.endsWith(`-${this.tokenGeneration}`)) {
              throw kubehaFailure({
                type: ErrorType.CredentialExpired,
                message: 'token expired',
                retryable: true,
                hint: 'refresh',
                details: { refresh: 'token' },
              });
            }
            if (input.controlPlane && !input.join.certificateKeySecret.endsWith(`-${this.certificateKeyGeneration}`)) {
              throw kubehaFailure({
                type: ErrorType.CredentialExpired,
                message: 'Secret "kubeadm-certs" was not found',
                retryable: true,
                hint: 'refresh',
                details: { refresh: 'certificate-key' },
              });
            }
            await new Promise((r) => setTimeout(r, this.joinDelayMs));
            this.act(`join:${input.host.name}`);
            this.nodes.set(input.host.name, { ready: true, controlPlane: input.controlPlane });
            if (input.controlPlane) this.etcd.set(input.host.name, this.member(input.host.name, input.host.address));
            return { host: input.host.name, alreadyJoined: false, repaired: false };
          },
          true,
        ),
      etcdMembers: () => this.record('etcdMembers', undefined, () => [...this.etcd.values()]),
    };
    const kube: KubernetesActivities = {
      applyManifest: () =>
        this.record(
          'applyManifest',
          undefined,
          () => {
            if (!this.cniApplied) this.act('apply-cni');
            this.cniApplied = true;
            return { applied: 12, workloads: [{ kind: 'DaemonSet' as const, namespace: 'kube-system', name: 'calico-node' }] };
          },
          true,
        ),
      waitRollout: () => this.record('waitRollout', undefined, () => undefined),
      listNodes: () => this.record('listNodes', undefined, () => [...this.nodes].map(([name, n]) => ({ name, ready: n.ready, controlPlane: n.controlPlane }))),
      waitNodeReady: (input) =>
        this.record('waitNodeReady', input.nodeName, () => {
          const node = this.nodes.get(input.nodeName);
          if (!node?.ready) throw kubehaFailure({ type: ErrorType.NotReady, message: `${input.nodeName} not ready`, retryable: true, hint: 'wait' });
          return { name: input.nodeName, ready: true, controlPlane: node.controlPlane };
        }),
      apiReady: () => this.record('apiReady', undefined, () => ({ ok: this.initialized, status: this.initialized ? 200 : 503, body: 'ok' })),
      writeReadProbe: () => this.record('writeReadProbe', undefined, () => ({ resourceVersion: 1000 + this.calls.length })),
    };
    return { ...aws, ...hosts, ...kube };
  }
}
