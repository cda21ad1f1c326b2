/**
 * An in-memory {@link RemoteShell} for testing the host activities' DECISIONS: it records every
 * command and file write, and answers the commands kubeha sends the way a kubeadm cluster would
 * (Nodes, etcd members, bootstrap tokens, the kubeadm-certs Secret sealed with real AES-GCM).
 * kubeadm's failure messages come from the fixtures. End-to-end behaviour against real hosts is
 * tested elsewhere; this double only has to be faithful enough to tell right decisions from wrong.
 */
import { randomBytes } from 'node:crypto';
import type { HostSpec } from '../../common/inputs/shared';
import type { CommandResult, RemoteCommand, RemoteShell } from '../../activities/ssh/types';
import { parseKubeadmConfig } from '../../activities/hosts/kubeadmConfig';
import {
  adminKubeconfig,
  fail,
  fixture,
  initOutput,
  makeCaPem,
  prepareAnswer,
  type Member,
  MemorySecretStore,
  notFound,
  ok,
  randomToken,
  type Recorded,
  sealedCertsSecret,
} from './fakeCluster';

export { makeCaPem, MemorySecretStore, type Recorded };

/** The fake world: hosts' files and one cluster. */
export class FakeHostShell implements RemoteShell {
  readonly calls: Recorded[] = [];
  /** Every secret value the fake handed out (tokens, keys): none may ever appear in a command. */
  readonly issuedSecrets = new Set<string>();
  readonly files = new Map<string, Map<string, string>>();
  readonly nodes = new Set<string>();
  readonly members: Member[] = [];
  readonly tokens = new Map<string, { token: string; expiresAt: Date }>();
  uploaded?: { key: string; ownerTokenId: string };
  apiUp = true;
  /** Members (by name) whose endpoint answers unhealthy (etcd down on that host). */
  readonly unhealthyMembers = new Set<string>();
  /** Hosts whose next join stops after adding an etcd learner (half-done join), with the fixture of kubeadm's output. */
  readonly joinLeavesLearner = new Map<string, string>();
  /** Hosts whose next kubeadm init fails with this output. */
  readonly initFailsWith = new Map<string, string>();
  /** Prepared items per host. */
  readonly prepared = new Map<string, Set<string>>();
  private nextMemberId = 0xf00dcafe12345678n;

  constructor(
    readonly caPem: string,
    readonly now: () => Date,
    readonly clusterConfiguration = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.2\ncontrolPlaneEndpoint: lb.example:6443\n',
  ) {}

  filesOf(host: string): Map<string, string> {
    let map = this.files.get(host);
    if (!map) this.files.set(host, (map = new Map()));
    return map;
  }

  /** Commands run on a host (or anywhere), in order. */
  commands(host?: string): string[] {
    return this.calls.filter((c) => c.kind === 'run' && (!host || c.host === host)).map((c) => c.command);
  }

  indexOf(pattern: RegExp, host?: string): number {
    return this.calls.findIndex((c) => c.kind === 'run' && (!host || c.host === host) && pattern.test(c.command));
  }

  count(pattern: RegExp): number {
    return this.calls.filter((c) => c.kind === 'run' && pattern.test(c.command)).length;
  }

  addMember(member: Omit<Member, 'id'>): Member {
    const full = { ...member, id: this.nextMemberId++ };
    this.members.push(full);
    return full;
  }

  addToken(token: string, ttlMs: number): void {
    this.tokens.set(token.slice(0, 6), { token, expiresAt: new Date(this.now().getTime() + ttlMs) });
    this.issuedSecrets.add(token);
  }

  /** Uploads certificates sealed with `key`, owned by a 2 h proxy token (as kubeadm does). */
  upload(key: string): void {
    const proxy = randomToken();
    this.addToken(proxy, 2 * 3600_000);
    this.uploaded = { key, ownerTokenId: proxy.slice(0, 6) };
    this.issuedSecrets.add(key);
  }

  /** Sets up a host as an initialized first control plane. */
  initializeControlPlane(host: HostSpec): void {
    const files = this.filesOf(host.name);
    files.set('/etc/kubernetes/admin.conf', this.adminConf(host.name));
    files.set('/etc/kubernetes/kubelet.conf', 'kubelet');
    files.set('/etc/kubernetes/pki/ca.crt', this.caPem);
    files.set('/etc/kubernetes/manifests/etcd.yaml', 'etcd');
    this.nodes.add(host.name);
    this.addMember({ name: host.name, peerUrls: [`https://${host.address}:2380`], clientUrls: [`https://${host.address}:2379`], isLearner: false });
  }

  /** An admin.conf as kubeadm writes it: embedded CA (the cluster's), client certificate and key. */
  adminConf(host: string): string {
    return adminKubeconfig(host, this.caPem);
  }

  private sealedSecretJson(): string {
    const { key, ownerTokenId } = this.uploaded as { key: string; ownerTokenId: string };
    return sealedCertsSecret(this.caPem, key, ownerTokenId);
  }

  private clusterAnswers(host: string): boolean {
    return this.apiUp && this.filesOf(host).has('/etc/kubernetes/admin.conf');
  }

  private tokenValid(token: string): boolean {
    const entry = this.tokens.get(token.slice(0, 6));
    return !!entry && entry.token === token && entry.expiresAt > this.now();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private configAt(host: string, file: string): Record<string, any>[] {
    const text = this.filesOf(host).get(file);
    if (!text) throw new Error(`fake: ${file} was not written on ${host}`);
    return parseKubeadmConfig(text);
  }

  private kubeadmInit(host: HostSpec, cmd: string): CommandResult {
    const injected = this.initFailsWith.get(host.name);
    if (injected) return fail(injected, '', 1);
    const file = /--config (\S+)/.exec(cmd)?.[1] as string;
    const [init, cluster] = this.configAt(host.name, file);
    const token = init.bootstrapTokens[0].token as string;
    this.initializeControlPlane(host);
    this.addToken(token, 24 * 3600_000);
    this.upload(init.certificateKey);
    return ok(initOutput(this.caPem, token, init.certificateKey, cluster.controlPlaneEndpoint));
  }

  private kubeadmJoin(host: HostSpec, cmd: string): CommandResult {
    const file = /--config (\S+)/.exec(cmd)?.[1] as string;
    const [join] = this.configAt(host.name, file);
    const token = join.discovery.bootstrapToken.token as string;
    if (!this.tokenValid(token)) return fail(fixture('join-token-expired.txt'));
    const files = this.filesOf(host.name);
    if (join.controlPlane) {
      // The Secret is garbage-collected with its 2 h owner token.
      if (!this.uploaded || !this.tokenValid(this.tokens.get(this.uploaded.ownerTokenId)?.token ?? '')) return fail(fixture('join-kubeadm-certs-missing.txt'));
      if (this.uploaded.key !== join.controlPlane.certificateKey) return fail(fixture('join-wrong-certificate-key.txt'));
      files.set('/etc/kubernetes/pki/ca.crt', this.caPem);
      const learner = this.addMember({ name: '', peerUrls: [`https://${host.address}:2380`], clientUrls: [], isLearner: true });
      files.set('/var/lib/etcd/member/snap/db', 'data');
      const stuck = this.joinLeavesLearner.get(host.name);
      if (stuck) {
        this.joinLeavesLearner.delete(host.name);
        return fail(fixture(stuck));
      }
      Object.assign(learner, { name: host.name, clientUrls: [`https://${host.address}:2379`], isLearner: false });
      files.set('/etc/kubernetes/admin.conf', this.adminConf(host.name));
      files.set('/etc/kubernetes/manifests/etcd.yaml', 'etcd');
    }
    files.set('/etc/kubernetes/kubelet.conf', 'kubelet');
    this.nodes.add(host.name);
    return ok('This node has joined the cluster\n');
  }

  private prepare(host: HostSpec, script: string): CommandResult {
    const done = this.prepared.get(host.name) ?? new Set<string>();
    this.prepared.set(host.name, done);
    return prepareAnswer(script, done);
  }

  private respond(host: HostSpec, cmd: RemoteCommand): CommandResult {
    const c = cmd.command;
    const files = this.filesOf(host.name);
    let m: RegExpExecArray | null;
    if ((m = /^test -[efs] '([^']+)'$/.exec(c))) return files.has(m[1]) ? ok() : fail('');
    if (cmd.label === 'look for kubeadm leftovers') {
      const prefixes = ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/manifests/', '/var/lib/etcd/'];
      return [...files.keys()].some((f) => prefixes.some((p) => f.startsWith(p))) ? ok() : fail('');
    }
    if (c.startsWith('mkdir -p /etc/kubernetes/kubeha')) return ok();
    if ((m = /^rm -f '([^']+)'$/.exec(c))) {
      files.delete(m[1]);
      return ok();
    }
    if (c.startsWith('kubectl ')) {
      if (!this.clusterAnswers(host.name)) return fail('The connection to the server lb.example:6443 was refused - did you specify the right host or port?\n');
      if ((m = /get node '([^']+)' -o name$/.exec(c))) return this.nodes.has(m[1]) ? ok(`node/${m[1]}\n`) : notFound(`nodes "${m[1]}"`);
      if ((m = /delete node '([^']+)'/.exec(c))) {
        this.nodes.delete(m[1]);
        return ok(`node "${m[1]}" deleted\n`);
      }
      if ((m = /get secret bootstrap-token-([a-z0-9]{6}) -o jsonpath=\{\.data\.expiration\}$/.exec(c))) {
        const entry = this.tokens.get(m[1]);
        return entry && entry.expiresAt > this.now()
          ? ok(Buffer.from(entry.expiresAt.toISOString()).toString('base64'))
          : notFound(`secrets "bootstrap-token-${m[1]}"`);
      }
      if (/get secret kubeadm-certs -o json$/.test(c)) {
        const owner = this.uploaded && this.tokens.get(this.uploaded.ownerTokenId);
        if (!this.uploaded || !owner || owner.expiresAt <= this.now()) return notFound('secrets "kubeadm-certs"');
        return ok(this.sealedSecretJson());
      }
      if (/get configmap kubeadm-config/.test(c)) return ok(this.clusterConfiguration);
      throw new Error(`fake: unexpected kubectl command: ${c}`);
    }
    if (c.startsWith('ETCDCTL_API=3 etcdctl')) {
      if (c.endsWith('member list -w json')) {
        const members = this.members.map(
          (mem) =>
            `{"ID":${mem.id},"name":${JSON.stringify(mem.name)},"peerURLs":${JSON.stringify(mem.peerUrls)},"clientURLs":${JSON.stringify(mem.clientUrls)}${mem.isLearner ? ',"isLearner":true' : ''}}`,
        );
        return ok(`{"header":{"cluster_id":17237436991929493444,"member_id":${this.members[0]?.id ?? 1},"raft_term":2},"members":[${members.join(',')}]}\n`);
      }
      if (c.endsWith('endpoint health --cluster -w json')) {
        return ok(
          JSON.stringify(
            this.members
              .filter((mem) => mem.clientUrls.length > 0)
              .map((mem) =>
                this.unhealthyMembers.has(mem.name)
                  ? { endpoint: mem.clientUrls[0], health: false, error: 'context deadline exceeded' }
                  : { endpoint: mem.clientUrls[0], health: true, took: '2ms' },
              ),
          ) + '\n',
        );
      }
      if ((m = /member remove ([0-9a-f]+)$/.exec(c))) {
        const at = this.members.findIndex((mem) => mem.id.toString(16) === m?.[1]);
        if (at < 0) return fail(`Error: etcdserver: member not found\n`);
        this.members.splice(at, 1);
        return ok(`Member ${m[1]} removed from cluster\n`);
      }
    }
    if (c === 'kubeadm certs certificate-key') {
      const key = randomBytes(32).toString('hex');
      this.issuedSecrets.add(key);
      return ok(`${key}\n`);
    }
    if (c === 'kubeadm token generate') {
      const token = randomToken();
      this.issuedSecrets.add(token);
      return ok(`${token}\n`);
    }
    if (c.startsWith('kubeadm token create')) {
      const token = randomToken();
      this.addToken(token, 24 * 3600_000);
      return ok(`${token}\n`);
    }
    if (c === 'kubeadm version -o short') return ok('v1.31.2\n');
    if (c.startsWith('kubeadm init phase upload-certs --upload-certs --config ')) {
      const [init] = this.configAt(host.name, c.split(' ').pop() as string);
      this.upload(init.certificateKey);
      return ok(
        `[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n[upload-certs] Using certificate key:\n${init.certificateKey}\n`,
      );
    }
    if (c.startsWith('kubeadm init --config ')) return this.kubeadmInit(host, c);
    if (c.startsWith('kubeadm join --config ')) return this.kubeadmJoin(host, c);
    if (c === 'kubeadm reset -f') {
      for (const f of [...files.keys()]) if (f.startsWith('/etc/kubernetes/') || f.startsWith('/var/lib/etcd/')) files.delete(f);
      return ok('[reset] Deleting contents of directories\n');
    }
    if (c === 'sh -s') return this.prepare(host, cmd.stdin ?? '');
    throw new Error(`fake: unexpected command on ${host.name}: ${c}`);
  }

  async run(host: HostSpec, cmd: RemoteCommand): Promise<CommandResult> {
    this.calls.push({ host: host.name, kind: 'run', command: cmd.command, stdin: cmd.stdin, redact: cmd.redact });
    return this.respond(host, cmd);
  }

  async runChecked(host: HostSpec, cmd: RemoteCommand): Promise<CommandResult> {
    const result = await this.run(host, cmd);
    if (result.exitCode !== 0) throw new Error(`fake: ${cmd.command} exited ${result.exitCode}`);
    return result;
  }

  async writeFile(host: HostSpec, filePath: string, content: string, mode: number): Promise<void> {
    this.calls.push({ host: host.name, kind: 'writeFile', command: '', path: filePath, content, mode });
    this.filesOf(host.name).set(filePath, content);
  }

  async readFile(host: HostSpec, filePath: string): Promise<string | undefined> {
    this.calls.push({ host: host.name, kind: 'readFile', command: '', path: filePath });
    return this.filesOf(host.name).get(filePath);
  }

  async close(): Promise<void> {}
}
