/**
 * deploy/kubernetes against a real kube-apiserver (test/support/apiserver.ts) with the real kubectl:
 * the kustomization applies with `--dry-run=server` (every object validated and admitted by the API
 * server), and the secret store's RBAC, applied for real, lets the worker's ServiceAccount token
 * get/create Secrets in namespace kubeha and nothing outside it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeClient } from '../../activities/kubernetes/client';
import { parseKubeconfig } from '../../activities/kubernetes/kubeconfig';
import { KubernetesSecretStore } from '../../activities/secrets/kubernetesStore';
import { promisify } from 'node:util';
import { projectRoot } from '../../lib/paths';
import { kubeBinDir, startTestApiServer, type TestApiServer } from '../support/apiserver';

const run = promisify(execFile);
const MANIFESTS = path.join(projectRoot, 'deploy', 'kubernetes');

/** kubectl: $KUBECTL_PATH, else the build cache, else the PATH. */
async function kubectlBinary(): Promise<string> {
  if (process.env.KUBECTL_PATH) return process.env.KUBECTL_PATH;
  const cached = path.join(await kubeBinDir(), 'kubectl');
  return existsSync(cached) ? cached : 'kubectl';
}

describe('deploy/kubernetes on a real kube-apiserver', { timeout: 300_000 }, () => {
  let api: TestApiServer;
  let kubectlPath: string;
  const kubectl = async (args: string[], extra: string[] = ['--kubeconfig', api.kubeconfigPath]) => {
    try {
      const { stdout } = await run(kubectlPath, [...extra, ...args], { maxBuffer: 8 << 20 });
      return { ok: true, out: stdout };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  before(async () => {
    kubectlPath = await kubectlBinary();
    api = await startTestApiServer();
  });
  after(async () => {
    await api?.stop();
  });

  test('every object of the kustomization is accepted by the API server (dry run)', async () => {
    // Namespaced objects need their namespace to exist for a server-side dry run.
    assert.ok((await kubectl(['create', 'namespace', 'kubeha'])).ok);
    const applied = await kubectl(['apply', '--dry-run=server', '-k', MANIFESTS]);
    assert.ok(applied.ok, applied.out);
    for (const object of [
      'deployment.apps/kubeha-worker',
      'poddisruptionbudget.policy/kubeha-worker',
      'service/kubeha-webhook',
      'service/kubeha-codec-server',
      'deployment.apps/kubeha-codec-server',
      'role.rbac.authorization.k8s.io/kubeha-secret-store',
      'rolebinding.rbac.authorization.k8s.io/kubeha-secret-store',
      'networkpolicy.networking.k8s.io/kubeha-default-deny-ingress',
    ]) {
      assert.match(
        applied.out,
        new RegExp(`${object.replace(/[.]/g, '\\.')} (created|configured|unchanged) \\(server dry run\\)`),
        `${object} in:\n${applied.out}`,
      );
    }
    const rendered = await kubectl(['kustomize', MANIFESTS], []);
    assert.match(rendered.out, /replicas: 2/);
    assert.match(rendered.out, /KUBEHA_SECRET_STORE: kubernetes/);
  });

  test("the worker's ServiceAccount token reaches Secrets in kubeha and nothing else", async () => {
    const rbac = await kubectl(['apply', '-n', 'kubeha', '-f', path.join(MANIFESTS, 'rbac.yaml')]);
    assert.ok(rbac.ok, rbac.out);
    assert.ok((await kubectl(['create', 'namespace', 'elsewhere'])).ok);
    const token = await kubectl(['-n', 'kubeha', 'create', 'token', 'kubeha-worker']);
    assert.ok(token.ok, token.out);
    const asWorker = ['--server', api.url, '--insecure-skip-tls-verify', '--token', token.out.trim()];
    for (const verb of ['get', 'list', 'create', 'update', 'patch', 'delete']) {
      assert.equal((await kubectl(['auth', 'can-i', verb, 'secrets', '-n', 'kubeha'], asWorker)).out.trim(), 'yes', `${verb} secrets in kubeha`);
      assert.equal((await kubectl(['auth', 'can-i', verb, 'secrets', '-n', 'elsewhere'], asWorker)).out.trim(), 'no', `${verb} secrets elsewhere`);
    }
    assert.equal((await kubectl(['auth', 'can-i', 'create', 'pods', '-n', 'kubeha'], asWorker)).out.trim(), 'no');
    const created = await kubectl(['-n', 'kubeha', 'create', 'secret', 'generic', 'probe', '--from-literal=v=1'], asWorker);
    assert.ok(created.ok, created.out);
    await kubectl(['-n', 'kubeha', 'label', 'secret', 'probe', 'app.kubernetes.io/managed-by=kubeha'], asWorker);
    const got = await kubectl(['-n', 'kubeha', 'get', 'secret', 'probe', '-o', 'jsonpath={.metadata.labels}'], asWorker);
    assert.match(got.out, /"app.kubernetes.io\/managed-by":"kubeha"/);
    const refused = await kubectl(['-n', 'elsewhere', 'create', 'secret', 'generic', 'probe', '--from-literal=v=1'], asWorker);
    assert.equal(refused.ok, false);
    assert.match(refused.out, /forbidden/i);
    const refusedGet = await kubectl(['-n', 'kube-system', 'get', 'secrets'], asWorker);
    assert.match(refusedGet.out, /forbidden/i);

    // kubeha's own Kubernetes secret store, as the worker pod runs it: the ServiceAccount token is enough
    // for everything it does in kubeha, and nothing elsewhere.
    const kubeconfig = api.kubeconfigWithUser({ token: token.out.trim() });
    const store = new KubernetesSecretStore(new KubeClient(parseKubeconfig(kubeconfig), { requestTimeoutMs: 10_000 }), 'kubeha');
    await store.put('clusters/west/admin-kubeconfig', 'first');
    await store.put('clusters/west/admin-kubeconfig', 'second');
    assert.equal(await store.get('clusters/west/admin-kubeconfig'), 'second');
    assert.equal(await store.putIfAbsent('known-hosts/x', 'key-1'), 'key-1');
    assert.equal(await store.putIfAbsent('known-hosts/x', 'key-2'), 'key-1');
    await store.delete('clusters/west/admin-kubeconfig');
    assert.equal(await store.has('clusters/west/admin-kubeconfig'), false);
    const elsewhere = new KubernetesSecretStore(new KubeClient(parseKubeconfig(kubeconfig), { requestTimeoutMs: 10_000 }), 'elsewhere');
    await assert.rejects(elsewhere.put('clusters/west/token', 'x'), /403|forbidden/i);
  });
});
