/**
 * The in-memory kubeadm cluster the rotation activities are tested on (test/hosts/fakeHostShell.ts),
 * extended with certificate expiry, renewal and static pods, and set up by the real host activities.
 */
import assert from 'node:assert/strict';
import { createHostActivities } from '../../activities/hosts';
import { PARKED_MANIFESTS } from '../../activities/rotation/certificates';
import { createRotationActivities } from '../../activities/rotation';
import type { RotationActivities } from '../../activities/rotation/types';
import type { CommandResult, RemoteCommand } from '../../activities/ssh/types';
import type { HostActivities, KubeadmInitResult } from '../../activities/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { HostSpec } from '../../common/inputs/shared';
import { FakeHostShell, MemorySecretStore } from '../hosts/fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: true, connectTimeoutSeconds: 5 };
const host = (name: string, address: string, role: HostSpec['role']): HostSpec => ({ name, address, role, ssh });
/** The control planes: cp-a is initialised and cp-b joined by {@link cluster}; cp-c is never joined. */
export const cpA = host('cp-a', '10.20.1.11', 'control-plane');
export const cpB = host('cp-b', '10.20.2.12', 'control-plane');
export const cpC = host('cp-c', '10.20.3.13', 'control-plane');
/** A day in milliseconds. */
export const DAY = 24 * 3600_000;
const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '', durationMs: 1 });
const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr, durationMs: 1 });

/** The fake cluster plus what rotation needs: CA keys, per-host certificate expiry, API servers that restart. */
export class CertsShell extends FakeHostShell {
  readonly expiry = new Map<string, number>();
  readonly apiDown = new Set<string>();
  readonly unreachable = new Set<string>();
  /** Hosts whose API server does not come back after a restart. */
  readonly staysDown = new Set<string>();

  private manifestsOf(h: string, dir: string): string[] {
    return [...this.filesOf(h).keys()].filter((f) => f.startsWith(`${dir}/`) && f.endsWith('.yaml')).map((f) => f.slice(dir.length + 1));
  }

  private move(h: string, from: string, to: string, name: string): void {
    const files = this.filesOf(h);
    files.set(`${to}/${name}`, files.get(`${from}/${name}`) as string);
    files.delete(`${from}/${name}`);
  }

  private checkExpiration(h: string): string {
    const at = this.expiry.get(h) ?? this.now().getTime() + 300 * DAY;
    const cert = (name: string, when: number, externallyManaged = false) => ({
      name,
      expirationDate: new Date(when).toISOString(),
      residualTime: Math.round((when - this.now().getTime()) / 1000),
      externallyManaged,
      caName: 'ca',
      missing: false,
    });
    return JSON.stringify({
      kind: 'CertificateExpirationInfo',
      apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
      certificates: [
        cert('admin.conf', at + 60_000),
        cert('apiserver', at),
        cert('front-proxy-client', this.now().getTime() + DAY, true),
        { name: 'etcd-server', externallyManaged: false, missing: true },
      ],
      certificateAuthorities: [cert('ca', this.now().getTime() + 3650 * DAY)],
    });
  }

  override async run(h: HostSpec, cmd: RemoteCommand): Promise<CommandResult> {
    if (this.unreachable.has(h.name))
      throw kubehaFailure({ type: ErrorType.Unreachable, message: `${h.name}: connect ECONNREFUSED ${h.address}:22`, retryable: true, hint: 'start sshd' });
    const c = cmd.command;
    const record = () => this.calls.push({ host: h.name, kind: 'run', command: c, stdin: cmd.stdin, redact: cmd.redact });
    const manifests = '/etc/kubernetes/manifests';
    if (c.includes('/readyz')) {
      record();
      return this.apiDown.has(h.name) ? fail('The connection to the server 10.20.1.11:6443 was refused\n') : ok('ok');
    }
    if (c === 'kubeadm certs check-expiration -o json') {
      record();
      return ok(this.checkExpiration(h.name));
    }
    if (c === 'kubeadm certs renew all') {
      record();
      this.expiry.set(h.name, this.now().getTime() + 365 * DAY);
      this.filesOf(h.name).set('/etc/kubernetes/admin.conf', `apiVersion: v1\nkind: Config\n# renewed admin of ${h.name}\n`);
      return ok('certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself renewed\n');
    }
    if (cmd.label === 'restart static pods') {
      // The one detached script: park, wait, put back. Its whole run is simulated at once.
      record();
      const parked = this.manifestsOf(h.name, manifests);
      parked.forEach((m) => this.move(h.name, manifests, PARKED_MANIFESTS, m));
      this.manifestsOf(h.name, PARKED_MANIFESTS).forEach((m) => this.move(h.name, PARKED_MANIFESTS, manifests, m));
      if (parked.includes('kube-apiserver.yaml') && this.staysDown.has(h.name)) this.apiDown.add(h.name);
      return ok(parked.map((m) => `${m}\n`).join(''));
    }
    if (c.startsWith(`mkdir -p ${PARKED_MANIFESTS}`)) {
      record();
      const parked = this.manifestsOf(h.name, manifests);
      parked.forEach((m) => this.move(h.name, manifests, PARKED_MANIFESTS, m));
      if (parked.includes('kube-apiserver.yaml')) this.apiDown.add(h.name);
      return ok(parked.map((m) => `${m}\n`).join(''));
    }
    if (c.startsWith(`if [ -d ${PARKED_MANIFESTS} ]`)) {
      record();
      const back = this.manifestsOf(h.name, PARKED_MANIFESTS);
      back.forEach((m) => this.move(h.name, PARKED_MANIFESTS, manifests, m));
      if (!this.staysDown.has(h.name)) this.apiDown.delete(h.name);
      return ok(back.map((m) => `${m}\n`).join(''));
    }
    if (/^sleep \d+$/.test(c)) {
      record();
      return ok();
    }
    return super.run(h, cmd);
  }
}

/** The cluster and the activities a test drives it with. */
export interface World {
  shell: CertsShell;
  secrets: MemorySecretStore;
  hosts: HostActivities;
  rotation: RotationActivities;
  clock: { now: Date };
  init: KubeadmInitResult;
}

/** A cluster made by the host activities: cp-a initialised, cp-b joined; every control plane has its CA key and manifests. */
export async function cluster(caPem: string): Promise<World> {
  const clock = { now: new Date('2025-02-03T10:00:00Z') };
  const shell = new CertsShell(caPem, () => clock.now);
  const secrets = new MemorySecretStore();
  const deps = { shell, secrets, now: () => clock.now };
  const hosts = createHostActivities(deps);
  const init = await hosts.kubeadmInit({
    clusterName: 'lab',
    host: cpA,
    controlPlaneEndpoint: 'lb.example:6443',
    kubernetesVersion: '1.31.2',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
  });
  await hosts.kubeadmJoin({
    clusterName: 'lab',
    host: cpB,
    controlPlane: true,
    controlPlaneEndpoint: 'lb.example:6443',
    join: init.join,
    kubeconfigSecret: init.kubeconfigSecret,
    repairVia: cpA,
  });
  for (const h of [cpA, cpB]) {
    const files = shell.filesOf(h.name);
    files.set('/etc/kubernetes/pki/ca.key', 'ca key');
    for (const m of ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']) files.set(`/etc/kubernetes/manifests/${m}`, m);
  }
  return { shell, secrets, hosts, rotation: createRotationActivities(deps), clock, init };
}

/** The third voter {@link threeVoters} joins. */
export const cpD = host('cp-d', '10.20.4.14', 'control-plane');

/** The cluster with a third control plane (cp-d): three voters, so one restarted keeps quorum. */
export async function threeVoters(caPem: string): Promise<World> {
  const w = await cluster(caPem);
  await w.hosts.kubeadmJoin({
    clusterName: 'lab',
    host: cpD,
    controlPlane: true,
    controlPlaneEndpoint: 'lb.example:6443',
    join: w.init.join,
    kubeconfigSecret: w.init.kubeconfigSecret,
    repairVia: cpA,
  });
  return w;
}

/** No secret the cluster handed out appears on any command line kubeha ran. */
export function assertNoSecretsOnCommandLines(shell: FakeHostShell): void {
  assert.ok(shell.issuedSecrets.size >= 2);
  for (const call of shell.calls.filter((c) => c.kind === 'run')) {
    for (const secret of shell.issuedSecrets)
      assert.equal(call.command.includes(secret), false, `a secret is on the command line: ${call.command.replace(secret, '***')}`);
  }
}
