/** Health probes `kubeha lab status` runs against a host's etcd and kube-apiserver, with the host's own certificates. */
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

/** What a probe found: an HTTP status, or why there was no answer. */
export type ProbeResult = { status: number; body: string } | { error: string };

function get(url: string, options: https.RequestOptions, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...options, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim().slice(0, 200) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

/** etcd's `/health` on the host's client URL, with its healthcheck-client certificate. */
export function etcdHealth(rootDir: string, address: string): Promise<ProbeResult> {
  const pki = path.join(rootDir, 'etc', 'kubernetes', 'pki', 'etcd');
  if (!existsSync(path.join(pki, 'healthcheck-client.crt'))) return Promise.resolve({ error: '-' });
  return get(`https://${address}:2379/health`, {
    cert: readFileSync(path.join(pki, 'healthcheck-client.crt')),
    key: readFileSync(path.join(pki, 'healthcheck-client.key')),
  });
}

/** kube-apiserver's `/readyz` on the host's own address (anonymous: kubeadm's RBAC lets anyone read it). */
export function apiserverHealth(address: string): Promise<ProbeResult> {
  return get(`https://${address}:6443/readyz`, {});
}

/** One word or code for a probe. */
export function describeProbe(result: ProbeResult): string {
  if ('error' in result) return result.error;
  return result.status === 200 ? 'ok' : `HTTP ${result.status}`;
}
