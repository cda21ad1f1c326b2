/**
 * LAB EMULATION of kube-controller-manager's service account token controller: a Secret of type
 * `kubernetes.io/service-account-token` that names its ServiceAccount (annotation
 * `kubernetes.io/service-account.name`) gets `token`, `ca.crt` and `namespace`. Linkerd's
 * `multicluster install` creates such a Secret for its remote-access account, and `link-gen` refuses to
 * run until the token is there.
 *
 * The real controller signs a non-expiring JWT with the service account key; the lab asks the API
 * server for the token instead (TokenRequest), bound to the Secret, so deleting the Secret revokes it
 * as it would on a real cluster. The lab's token expires after a year, far beyond any lab run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiError, type KubeClient, type KubeObject } from '../client';
import { KUBE } from '../env';

const TOKEN_TYPE = 'kubernetes.io/service-account-token';
const ACCOUNT_ANNOTATION = 'kubernetes.io/service-account.name';
const TOKEN_SECONDS = 365 * 24 * 3600;

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Fills every token Secret that has none yet; returns `<namespace>/<name>` of each Secret filled. */
export async function fillServiceAccountTokens(client: KubeClient, caFile = path.join(KUBE.pki, 'ca.crt')): Promise<string[]> {
  const list = await client.get<{ items: KubeObject[] }>(`/api/v1/secrets?fieldSelector=${encodeURIComponent(`type=${TOKEN_TYPE}`)}`);
  const filled: string[] = [];
  for (const secret of list.items) {
    const data = (secret.data ?? {}) as Record<string, string>;
    const account = secret.metadata?.annotations?.[ACCOUNT_ANNOTATION];
    const namespace = secret.metadata?.namespace as string;
    const name = secret.metadata?.name as string;
    if (data.token || !account) continue;
    let token: string;
    try {
      const answer = await client.create<{ status?: { token?: string } }>(
        `/api/v1/namespaces/${namespace}/serviceaccounts/${encodeURIComponent(account)}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: TOKEN_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name, uid: secret.metadata?.uid } },
        },
      );
      token = answer.status?.token ?? '';
    } catch (err) {
      // The account is not there yet (created by the same apply): the next pass fills it.
      if (err instanceof ApiError && err.status === 404) continue;
      throw err;
    }
    if (!token) continue;
    await client.mergePatch(`/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(name)}`, {
      metadata: { resourceVersion: secret.metadata?.resourceVersion },
      data: { token: b64(token), 'ca.crt': b64(readFileSync(caFile, 'utf8')), namespace: b64(namespace) },
    });
    filled.push(`${namespace}/${name}`);
  }
  return filled;
}
