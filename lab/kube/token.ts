/**
 * `kubeadm token generate|create|list|delete`. Tokens are created through the kubeconfig given
 * (default /etc/kubernetes/admin.conf); cluster-info gets its signature at once (the bootstrap
 * signer's job, done here and by the lab controller).
 */
import { existsSync } from 'node:fs';
import { flag, flagList, flagSet, type ParsedArgs, parseDuration, UsageError } from './args';
import { createTokenSecret, DEFAULT_TOKEN_GROUP, decodeTokenSecret, generateToken, rfc3339, splitToken, syncClusterInfoSignatures } from './bootstrap';
import { KubeClient, type KubeObject } from './client';
import { KUBE } from './env';
import { KubeadmError } from './errors';
import { readKubeconfig } from './kubeconfig';
import { joinCommand, oneLine, type Out } from './phases';
import { caCertHash } from './pki';

/** The admin client of `--kubeconfig` (default admin.conf). */
export function adminClient(args: ParsedArgs): KubeClient {
  const file = flag(args, 'kubeconfig') ?? KUBE.adminConf;
  if (!existsSync(file)) throw new KubeadmError(`failed to load admin kubeconfig: open ${file}: no such file or directory`);
  return new KubeClient(readKubeconfig(file));
}

/** `kubeadm token generate`. */
export function tokenGenerate(out: Out): void {
  out(generateToken());
}

/** `kubeadm token create [token] [--ttl D] [--description S] [--print-join-command [--certificate-key K]]`. */
export async function tokenCreate(args: ParsedArgs, out: Out): Promise<void> {
  const token = args.positional[0] ?? generateToken();
  if (!splitToken(token)) throw new UsageError(`the bootstrap token "${token}" was not of the form "^([a-z0-9]{6})\\.([a-z0-9]{16})$"`);
  const certificateKey = flag(args, 'certificate-key');
  if (certificateKey && !flagSet(args, 'print-join-command')) throw new UsageError('certificate-key can only be used with --print-join-command');
  const client = adminClient(args);
  const ttlMs = parseDuration(flag(args, 'ttl') ?? '24h0m0s');
  const usages = flagList(args, 'usages');
  const groups = flagList(args, 'groups');
  try {
    await createTokenSecret(client, {
      token,
      description: flag(args, 'description'),
      ttlMs,
      usages: usages.length ? usages : ['signing', 'authentication'],
      groups: groups.length ? groups : [DEFAULT_TOKEN_GROUP],
    });
    await syncClusterInfoSignatures(client);
  } catch (err) {
    throw new KubeadmError(`failed to create or update bootstrap token with name bootstrap-token-${splitToken(token)!.id}: ${(err as Error).message}`);
  }
  if (!flagSet(args, 'print-join-command')) return out(token);
  const target = client.target;
  const endpoint = new URL(target.server).host;
  const hashes = target.caPem ? [caCertHash(target.caPem)] : [];
  out(oneLine(joinCommand({ endpoint, token, caHashes: hashes, controlPlane: certificateKey !== undefined, certificateKey })));
}

/** `kubeadm token delete <id|token> ...`. */
export async function tokenDelete(args: ParsedArgs, out: Out): Promise<void> {
  if (args.positional.length === 0)
    throw new UsageError('missing argument; "token delete" is missing token of form "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"');
  const client = adminClient(args);
  for (const value of args.positional) {
    const id = splitToken(value)?.id ?? (/^[a-z0-9]{6}$/.test(value) ? value : undefined);
    if (!id) throw new UsageError(`given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"`);
    await client.remove(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`);
    out(`bootstrap token "${id}" deleted`);
  }
  await syncClusterInfoSignatures(client);
}

/** `kubeadm token list [-o json]`: one BootstrapToken object per token in JSON, a table otherwise. */
export async function tokenList(args: ParsedArgs, out: Out): Promise<void> {
  const client = adminClient(args);
  const list = await client.get<{ items: KubeObject[] }>('/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken');
  const tokens = list.items.map(decodeTokenSecret).filter((t): t is NonNullable<typeof t> => t !== undefined);
  const output = flag(args, 'output') ?? 'text';
  if (output === 'json') {
    for (const t of tokens) {
      out(
        JSON.stringify(
          {
            kind: 'BootstrapToken',
            apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
            token: `${t.id}.${t.secret}`,
            ...(t.description ? { description: t.description } : {}),
            ...(t.expiration ? { expires: rfc3339(t.expiration) } : {}),
            usages: t.usages,
            groups: t.groups,
          },
          null,
          4,
        ),
      );
    }
    return;
  }
  out(
    'TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION                                                EXTRA GROUPS',
  );
  for (const t of tokens) {
    const ttl = t.expiration ? `${Math.max(0, Math.round((t.expiration.getTime() - Date.now()) / 3600_000))}h` : '<forever>';
    out(
      `${`${t.id}.${t.secret}`.padEnd(26)}${ttl.padEnd(12)}${(t.expiration ? rfc3339(t.expiration) : '<never>').padEnd(23)}${t.usages.join(',').padEnd(25)}${(t.description ?? '<none>').padEnd(59)}${t.groups.join(',')}`,
    );
  }
}
