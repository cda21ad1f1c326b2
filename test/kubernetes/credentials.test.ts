/**
 * Kubeconfig credentials beyond an embedded client certificate, against a real kube-apiserver that
 * also accepts static bearer tokens: token files, exec credential plugins (tokens and client
 * certificates), plugin failures and hangs, and the cluster's TLS settings.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { KubeClient } from '../../activities/kubernetes/client';
import { KubeconfigCache } from '../../activities/kubernetes/kubeconfig';
import { type Harness, rejectsWith, startHarness } from './harness';

const TOKEN_ADMIN = `file-${randomBytes(12).toString('hex')}`;
const PLUGIN_ADMIN = `exec-${randomBytes(12).toString('hex')}`;
const CONFIGMAP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: credentials-probe\n  namespace: default\ndata:\n  a: b\n';

/** Who the API server says the kubeconfig in `secret` authenticates as (SelfSubjectReview). */
async function whoAmI(cache: KubeconfigCache, secret: string): Promise<string> {
  const client = new KubeClient(await cache.load(secret), { requestTimeoutMs: 5000 });
  const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const res = await client.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', review);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return (res.body as { status: { userInfo: { username: string } } }).status.userInfo.username;
}

/** An exec user entry running `command` with `env`, as kubectl users write them. */
function execUser(command: string, env: Record<string, string> = {}): Record<string, unknown> {
  return {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command,
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
      interactiveMode: 'Never',
    },
  };
}

/** Lines a plugin appended to its log. */
async function logLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

describe('kubeconfig credentials against a real kube-apiserver', () => {
  let h: Harness;
  let dir: string;
  let cache: KubeconfigCache;

  /** Writes an executable shell script. */
  const plugin = async (name: string, body: string) => {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  };
  /** A plugin printing an ExecCredential with $TOKEN, valid until $EXPIRY, logging each run to $LOG. */
  const tokenPlugin = () =>
    plugin(
      'token-plugin.sh',
      [
        'echo run >> "$LOG"',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$TOKEN" "$EXPIRY"`,
      ].join('\n'),
    );

  before(async () => {
    h = await startHarness({
      staticTokens: [
        { token: TOKEN_ADMIN, user: 'token-file-admin', groups: ['system:masters'] },
        { token: PLUGIN_ADMIN, user: 'exec-plugin-admin', groups: ['system:masters'] },
      ],
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-credentials-'));
    cache = new KubeconfigCache(h.secrets);
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a token from a tokenFile (ending with a newline) authenticates; a missing file fails as SecretMissing naming it', async () => {
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN_ADMIN}\n`, { mode: 0o600 });
    await h.secrets.put('creds/token-file', h.api.kubeconfigWithUser({ tokenFile }));
    assert.equal(await whoAmI(cache, 'creds/token-file'), 'token-file-admin');
    const result = await h.activities.applyManifest({ kubeconfigSecret: 'creds/token-file', source: { inline: CONFIGMAP } });
    assert.equal(result.applied, 1);

    const missing = path.join(dir, 'no-such-token');
    await h.secrets.put('creds/token-file-missing', h.api.kubeconfigWithUser({ tokenFile: missing }));
    const failure = await rejectsWith(h.activities.listNodes({ kubeconfigSecret: 'creds/token-file-missing' }), {
      type: 'SecretMissing',
      retryable: false,
      message: /secret "creds\/token-file-missing" is not a usable kubeconfig: its file .*no-such-token is not readable on the worker/,
    });
    assert.doesNotMatch(failure.message, new RegExp(TOKEN_ADMIN));
  });

  test("an exec plugin's token authenticates, and the plugin runs once while its credential is valid", async () => {
    const log = path.join(dir, 'token-plugin.log');
    const expiry = new Date(Date.now() + 3600_000).toISOString();
    await h.secrets.put('creds/exec', h.api.kubeconfigWithUser(execUser(await tokenPlugin(), { TOKEN: PLUGIN_ADMIN, EXPIRY: expiry, LOG: log })));
    const activities = createKubernetesActivities({ secrets: h.secrets, pollIntervalMs: 100, requestTimeoutMs: 5000 });
    assert.equal((await activities.applyManifest({ kubeconfigSecret: 'creds/exec', source: { inline: CONFIGMAP } })).applied, 1);
    assert.ok(Array.isArray(await activities.listNodes({ kubeconfigSecret: 'creds/exec' })));
    assert.equal((await activities.apiReady({ kubeconfigSecret: 'creds/exec' })).status, 200);
    assert.equal((await logLines(log)).length, 1, 'one run for the load and every request after it');
    assert.equal(await whoAmI(cache, 'creds/exec'), 'exec-plugin-admin');
  });

  test('an expired plugin credential is fetched again; a plugin that then hangs fails as retryable CredentialExpired in the request time', async () => {
    const log = path.join(dir, 'expiring.log');
    // First run: a token valid for a moment. Later runs hang for a while, then answer.
    const command = await plugin(
      'expiring-plugin.sh',
      [
        'echo run >> "$LOG"',
        'if [ "$(wc -l < "$LOG")" -gt 1 ]; then sleep 3; echo done >> "$LOG"; fi',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$TOKEN" "$EXPIRY"`,
      ].join('\n'),
    );
    const expiry = new Date(Date.now() + 1500).toISOString();
    await h.secrets.put('creds/expiring', h.api.kubeconfigWithUser(execUser(command, { TOKEN: PLUGIN_ADMIN, EXPIRY: expiry, LOG: log })));
    const activities = createKubernetesActivities({ secrets: h.secrets, pollIntervalMs: 100, requestTimeoutMs: 1000 });
    assert.equal((await activities.apiReady({ kubeconfigSecret: 'creds/expiring' })).status, 200);
    await sleep(Math.max(Date.parse(expiry) - Date.now(), 0) + 200);
    const started = Date.now();
    await rejectsWith(activities.apiReady({ kubeconfigSecret: 'creds/expiring' }), {
      type: 'CredentialExpired',
      retryable: true,
      message: /secret "creds\/expiring": its credential plugin gave no credential in time/,
    });
    assert.ok(Date.now() - started < 2800, 'the request timeout (1 s), not the plugin (3 s), ends the wait');
    assert.deepEqual(await logLines(log), ['run', 'run'], 'the plugin ran again once its credential expired');
    // The hung plugin finishes on its own; wait for it so that nothing outlives the test.
    for (let i = 0; i < 50 && !(await logLines(log)).includes('done'); i++) await sleep(100);
    assert.ok((await logLines(log)).includes('done'));
  });

  test('a plugin that hangs at load fails as CredentialExpired after the cache timeout', async () => {
    const command = await plugin('slow-plugin.sh', 'sleep 1\necho "{}"');
    await h.secrets.put('creds/slow', h.api.kubeconfigWithUser(execUser(command)));
    const impatient = new KubeconfigCache(h.secrets, { credentialTimeoutMs: 200 });
    await rejectsWith(impatient.load('creds/slow'), { type: 'CredentialExpired', retryable: true, message: /gave no credential in time/ });
    await sleep(1000); // the plugin ends on its own
  });

  test('plugin failures say what went wrong without quoting what the plugin printed on stdout', async () => {
    const failing = await plugin('failing-plugin.sh', 'echo "error: login required, run kubeha-login" >&2\nexit 1');
    await h.secrets.put('creds/failing', h.api.kubeconfigWithUser(execUser(failing)));
    await rejectsWith(h.activities.listNodes({ kubeconfigSecret: 'creds/failing' }), {
      type: 'CredentialExpired',
      retryable: true,
      message: /plugin gave no credential: error: login required, run kubeha-login/,
    });

    const garbage = await plugin('garbage-plugin.sh', 'echo "token=$TOKEN (not an ExecCredential)"');
    await h.secrets.put('creds/garbage', h.api.kubeconfigWithUser(execUser(garbage, { TOKEN: PLUGIN_ADMIN })));
    const failure = await rejectsWith(h.activities.listNodes({ kubeconfigSecret: 'creds/garbage' }), {
      type: 'SecretMissing',
      retryable: false,
      message: /did not print an ExecCredential as JSON/,
    });
    assert.doesNotMatch(`${failure.message} ${JSON.stringify(failure.details)}`, new RegExp(PLUGIN_ADMIN));

    await h.secrets.put('creds/absent', h.api.kubeconfigWithUser(execUser(path.join(dir, 'no-such-plugin'))));
    await rejectsWith(h.activities.listNodes({ kubeconfigSecret: 'creds/absent' }), {
      type: 'SecretMissing',
      retryable: false,
      message: /plugin ".*no-such-plugin" cannot be started on the worker \(ENOENT\)/,
    });
  });

  test('a client certificate an exec plugin issues authenticates', async () => {
    const issued = await h.api.clientCertificate('cert-from-plugin', ['system:masters']);
    const credential = path.join(dir, 'credential.json');
    const status = { clientCertificateData: issued.cert, clientKeyData: issued.key };
    await writeFile(credential, JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status }), { mode: 0o600 });
    const command = await plugin('cert-plugin.sh', 'cat "$CREDENTIAL"');
    await h.secrets.put('creds/exec-cert', h.api.kubeconfigWithUser(execUser(command, { CREDENTIAL: credential })));
    assert.equal(await whoAmI(cache, 'creds/exec-cert'), 'cert-from-plugin');
  });

  test('tls-server-name is what the server certificate is checked against; insecure-skip-tls-verify trusts any', async () => {
    const withCluster = (change: (cluster: Record<string, unknown>) => void) => {
      const doc = parse(h.api.kubeconfig) as { clusters: { cluster: Record<string, unknown> }[] };
      change(doc.clusters[0].cluster);
      return stringify(doc);
    };
    await h.secrets.put(
      'creds/sni-ok',
      withCluster((c) => (c['tls-server-name'] = 'kubernetes.default')),
    );
    assert.equal((await h.activities.apiReady({ kubeconfigSecret: 'creds/sni-ok' })).status, 200);
    await h.secrets.put(
      'creds/sni-wrong',
      withCluster((c) => (c['tls-server-name'] = 'elsewhere.example')),
    );
    await rejectsWith(h.activities.apiReady({ kubeconfigSecret: 'creds/sni-wrong' }), {
      type: 'AuthenticationFailed',
      retryable: false,
      message: /TLS verification of .* failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    });
    await h.secrets.put(
      'creds/insecure',
      withCluster((c) => {
        delete c['certificate-authority-data'];
        c['insecure-skip-tls-verify'] = true;
      }),
    );
    assert.equal((await h.activities.apiReady({ kubeconfigSecret: 'creds/insecure' })).status, 200);
  });
});
